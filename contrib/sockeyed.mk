# The daemon's part of `make install` (included by the Makefile, whose variables it uses):
#
#   bin/sockeyed                                   the daemon, stripped
#   lib/systemd/system/sockeyed.service            the unit (Type=notify, hardened), with
#                                                  ExecStart at this PREFIX's sockeyed
#   share/man/man1/sockeyed.1                      the manual page
#   share/bash-completion/completions/sockeyed     shell completions, written by
#   share/zsh/site-functions/_sockeyed             `sockeyed --generate-completion-script`
#   share/fish/vendor_completions.d/sockeyed.fish
#
# `make uninstall` removes exactly these files. NO_BUILD=1 installs what is already built
# (SOCKEYED_BUILT, and the library's BUILT) instead of running swift build.
#
# sockeyed links the Swift runtime of the toolchain that built it (RUNPATH): on a machine
# without that toolchain, build it with SWIFTFLAGS=--static-swift-stdlib (and a SCRATCH of
# its own), or run the container (Dockerfile).

BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# Where the unit reads its configuration and tokens: /etc whatever the PREFIX.
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPLETIONDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPLETIONDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SOCKEYED_BUILT ?= $(SCRATCH)/release/sockeyed

SOCKEYED_FILES := $(BINDIR)/sockeyed $(SYSTEMDUNITDIR)/sockeyed.service $(MANDIR)/man1/sockeyed.1 \
    $(BASHCOMPLETIONDIR)/sockeyed $(ZSHCOMPLETIONDIR)/_sockeyed $(FISHCOMPLETIONDIR)/sockeyed.fish
# The placeholders of the unit and the manual page.
SOCKEYED_SUBSTITUTIONS := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
    -e 's|@UNITDIR@|$(SYSTEMDUNITDIR)|g' -e 's|@VERSION@|$(VERSION)|g'
SOCKEYED_IS_BUILT = test -x $(SOCKEYED_BUILT) || { echo "NO_BUILD: $(SOCKEYED_BUILT) is not built" >&2; exit 1; }

.PHONY: build-daemon install-daemon uninstall-daemon

all: build-daemon
install: install-daemon
uninstall: uninstall-daemon

build-daemon:
	$(if $(NO_BUILD),$(SOCKEYED_IS_BUILT),$(SWIFT) build -c release --scratch-path $(SCRATCH) --product sockeyed $(SWIFTFLAGS))

install-daemon: build-daemon
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPLETIONDIR) $(DESTDIR)$(ZSHCOMPLETIONDIR) $(DESTDIR)$(FISHCOMPLETIONDIR)
	$(INSTALL) -m 0755 $(SOCKEYED_BUILT) $(DESTDIR)$(BINDIR)/sockeyed
	$(STRIP) $(DESTDIR)$(BINDIR)/sockeyed
	sed $(SOCKEYED_SUBSTITUTIONS) contrib/systemd/sockeyed.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/sockeyed.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sockeyed.service
	sed $(SOCKEYED_SUBSTITUTIONS) contrib/man/sockeyed.1.in > $(DESTDIR)$(MANDIR)/man1/sockeyed.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/sockeyed.1
	$(SOCKEYED_BUILT) --generate-completion-script bash > $(DESTDIR)$(BASHCOMPLETIONDIR)/sockeyed
	$(SOCKEYED_BUILT) --generate-completion-script zsh > $(DESTDIR)$(ZSHCOMPLETIONDIR)/_sockeyed
	$(SOCKEYED_BUILT) --generate-completion-script fish > $(DESTDIR)$(FISHCOMPLETIONDIR)/sockeyed.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPLETIONDIR)/sockeyed $(DESTDIR)$(ZSHCOMPLETIONDIR)/_sockeyed \
	    $(DESTDIR)$(FISHCOMPLETIONDIR)/sockeyed.fish
	@echo "installed sockeyed $(VERSION) under $(DESTDIR)$(PREFIX) (unit: $(SYSTEMDUNITDIR)/sockeyed.service)"

uninstall-daemon:
	rm -f $(addprefix $(DESTDIR),$(SOCKEYED_FILES))
