// untracked local placeholder: main has no SockeyeCoreTests sources yet
