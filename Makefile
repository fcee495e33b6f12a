# libsockeye: build, install and uninstall the C library.
#
#   make                         build libsockeye.so (swift build -c release)
#   make install PREFIX=$HOME/.local
#                                lib/libsockeye.so.0 (+ libsockeye.so symlink),
#                                include/sockeye.h, lib/pkgconfig/sockeye.pc
#   make uninstall PREFIX=…      removes exactly those files
#   make install-lib / uninstall-lib
#                                the library's files alone (without the daemon's)
#   make pc PCFILE=…             only writes sockeye.pc (what install installs) to PCFILE
#
# make and make install also build and install the daemon: bin/sockeyed, its systemd unit,
# manual page and shell completions (contrib/sockeyed.mk). NO_BUILD=1 installs what is
# already built instead of running swift build.
#
# The library is self-contained (the Swift runtime is linked in, RUNPATH $ORIGIN): a C host
# needs only the Debian packages libwebsockets17, libev4 and libssl3 at run time (and
# libwebsockets-evlib-ev, to wait on epoll rather than lws' poll loop), and
# `pkg-config sockeye` to build.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SWIFT ?= swift
# SwiftPM's build folder; set it to keep this build apart from others.
SCRATCH ?= .build
# Extra flags for swift build, e.g. SWIFTFLAGS="-Xswiftc -sanitize=thread" (with its own SCRATCH).
SWIFTFLAGS ?=
STRIP ?= strip
INSTALL ?= install

# The release number (scripts/check-version holds the header and the library to it).
VERSION := $(shell cat VERSION)
SONAME := libsockeye.so.0
BUILT := $(SCRATCH)/release/libsockeye.so
PCFILE ?= $(SCRATCH)/sockeye.pc

.PHONY: all build pc install uninstall install-lib uninstall-lib

all: build

build:
	$(if $(NO_BUILD),test -f $(BUILT),$(SWIFT) build -c release --scratch-path $(SCRATCH) --product sockeye $(SWIFTFLAGS))

pc:
	@mkdir -p $(dir $(PCFILE))
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' include/sockeye.pc.in > $(PCFILE)

install: install-lib
uninstall: uninstall-lib

install-lib: build pc
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0755 $(BUILT) $(DESTDIR)$(LIBDIR)/$(SONAME)
	$(STRIP) --strip-unneeded $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsockeye.so
	$(INSTALL) -m 0644 include/sockeye.h $(DESTDIR)$(INCLUDEDIR)/sockeye.h
	$(INSTALL) -m 0644 $(PCFILE) $(DESTDIR)$(PKGCONFIGDIR)/sockeye.pc
	@echo "installed libsockeye $(VERSION) under $(DESTDIR)$(PREFIX)"

uninstall-lib:
	rm -f $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libsockeye.so \
	    $(DESTDIR)$(INCLUDEDIR)/sockeye.h $(DESTDIR)$(PKGCONFIGDIR)/sockeye.pc

include contrib/sockeyed.mk
