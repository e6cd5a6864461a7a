# vibes-spool: build, install as a system service, check the systemd files.
#
#   make build                          # as your normal user
#   sudo make install                   # PREFIX=/usr/local
#   sudo systemctl enable --now vibes-spool@default.service
#
# install with DESTDIR= set only stages the files (for packaging); without it,
# it also creates the user (systemd-sysusers), the spool (systemd-tmpfiles)
# and reloads systemd.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DOCDIR      ?= $(PREFIX)/share/doc/vibes-spool
MANDIR      ?= $(PREFIX)/share/man
# Where bash-completion, zsh and fish look for completions of packages.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSCONFDIR  ?= /etc

# systemd's own search paths under /usr/local are not the same on every
# system, and files of a local install belong to the admin: put them in /etc.
# A distribution package (PREFIX=/usr) uses the vendor directories instead.
ifeq ($(PREFIX),/usr)
UNITDIR     ?= /usr/lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
else
UNITDIR     ?= $(SYSCONFDIR)/systemd/system
TMPFILESDIR ?= $(SYSCONFDIR)/tmpfiles.d
SYSUSERSDIR ?= $(SYSCONFDIR)/sysusers.d
endif

SWIFT       ?= swift
# The Swift runtime is linked in, so the installed binary depends neither on
# where the toolchain lives (the service cannot see /home: ProtectHome=yes)
# nor on it staying installed. `make build SWIFT_BUILD_FLAGS=` links it
# dynamically instead.
#
# Linked with the toolchain's lld: relative relocations packed (DT_RELR, glibc 2.36+) and no
# symbols exported to the dynamic table, which the loader would otherwise read at every start
# (about 5 MiB of the binary less in memory: 3 of relocations, 2 of symbols; bench/README.md).
SWIFT_BUILD_FLAGS ?= --static-swift-stdlib -Xswiftc -use-ld=lld \
	-Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
BINARY      ?= .build/release/vibes-spool
# Shell completions and the man page, made by `make build` (from the binary, as the user).
GENERATED   ?= .build/share

INSTALL     ?= install
UNIT        := vibes-spool@.service
API_UNIT    := vibes-spool-api@.service

.PHONY: all build binary completions man install uninstall check-systemd check-metrics

all: build

# The man page first: the argument parser's GenerateManual plugin builds the package in release
# mode with its own flags, so the build that follows makes the binary with ours (it compiles
# again: the linker choice is a compiler flag).
build: man
	$(MAKE) binary completions

# Only the static release binary (what the benchmarks measure), without the man page's extra build.
binary:
	$(SWIFT) build -c release --product vibes-spool $(SWIFT_BUILD_FLAGS)

# swift-argument-parser's --generate-completion-script, for bash, zsh and fish.
completions:
	@test -x '$(BINARY)' || { echo "make completions: $(BINARY) is missing; run 'make build' first" >&2; exit 1; }
	mkdir -p '$(GENERATED)/completions'
	'$(BINARY)' --generate-completion-script bash > '$(GENERATED)/completions/vibes-spool.bash'
	'$(BINARY)' --generate-completion-script zsh > '$(GENERATED)/completions/_vibes-spool'
	'$(BINARY)' --generate-completion-script fish > '$(GENERATED)/completions/vibes-spool.fish'

# swift-argument-parser's GenerateManual plugin (from the package mirror; no network): one page,
# vibes-spool(1), with a section per subcommand.
man:
	$(SWIFT) package plugin generate-manual
	mkdir -p '$(GENERATED)/man'
	cp .build/plugins/GenerateManual/outputs/vibes-spool/vibes-spool.1 '$(GENERATED)/man/vibes-spool.1'

install:
	@test -x '$(BINARY)' || { echo "make install: $(BINARY) is missing; run 'make build' first (as your normal user, not root)" >&2; exit 1; }
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(UNITDIR)' '$(DESTDIR)$(TMPFILESDIR)' \
		'$(DESTDIR)$(SYSUSERSDIR)' '$(DESTDIR)$(DOCDIR)' '$(DESTDIR)$(SYSCONFDIR)/default' \
		'$(DESTDIR)$(SYSCONFDIR)/vibes-spool'
	$(INSTALL) -m 0755 '$(BINARY)' '$(DESTDIR)$(BINDIR)/vibes-spool'
	sed -e 's|/usr/local/bin/vibes-spool|$(BINDIR)/vibes-spool|g' \
	    -e 's|/usr/local/share/doc/vibes-spool|$(DOCDIR)|g' \
	    -e 's|/etc/default/vibes-spool|$(SYSCONFDIR)/default/vibes-spool|g' \
	    -e 's|/etc/vibes-spool/|$(SYSCONFDIR)/vibes-spool/|g' \
	    systemd/$(UNIT) > '$(DESTDIR)$(UNITDIR)/$(UNIT).tmp'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/$(UNIT).tmp'
	mv -f '$(DESTDIR)$(UNITDIR)/$(UNIT).tmp' '$(DESTDIR)$(UNITDIR)/$(UNIT)'
	sed -e 's|/usr/local/bin/vibes-spool|$(BINDIR)/vibes-spool|g' \
	    -e 's|/usr/local/share/doc/vibes-spool|$(DOCDIR)|g' \
	    -e 's|/etc/default/vibes-spool|$(SYSCONFDIR)/default/vibes-spool|g' \
	    -e 's|/etc/vibes-spool/|$(SYSCONFDIR)/vibes-spool/|g' \
	    systemd/$(API_UNIT) > '$(DESTDIR)$(UNITDIR)/$(API_UNIT).tmp'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/$(API_UNIT).tmp'
	mv -f '$(DESTDIR)$(UNITDIR)/$(API_UNIT).tmp' '$(DESTDIR)$(UNITDIR)/$(API_UNIT)'
	$(INSTALL) -m 0644 systemd/vibes-spool.tmpfiles '$(DESTDIR)$(TMPFILESDIR)/vibes-spool.conf'
	$(INSTALL) -m 0644 systemd/vibes-spool.sysusers '$(DESTDIR)$(SYSUSERSDIR)/vibes-spool.conf'
	$(INSTALL) -m 0644 systemd/vibes-spool.env.example '$(DESTDIR)$(DOCDIR)/vibes-spool.env.example'
	test ! -f README.md || $(INSTALL) -m 0644 README.md '$(DESTDIR)$(DOCDIR)/README.md'
	@# Completions and the man page, if `make build` made them (a packaging run with BINARY= may not).
	@if [ -f '$(GENERATED)/man/vibes-spool.1' ]; then \
		echo "install man page and shell completions"; \
		$(INSTALL) -d '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(BASHCOMPDIR)' '$(DESTDIR)$(ZSHCOMPDIR)' '$(DESTDIR)$(FISHCOMPDIR)' && \
		$(INSTALL) -m 0644 '$(GENERATED)/man/vibes-spool.1' '$(DESTDIR)$(MANDIR)/man1/vibes-spool.1' && \
		$(INSTALL) -m 0644 '$(GENERATED)/completions/vibes-spool.bash' '$(DESTDIR)$(BASHCOMPDIR)/vibes-spool' && \
		$(INSTALL) -m 0644 '$(GENERATED)/completions/_vibes-spool' '$(DESTDIR)$(ZSHCOMPDIR)/_vibes-spool' && \
		$(INSTALL) -m 0644 '$(GENERATED)/completions/vibes-spool.fish' '$(DESTDIR)$(FISHCOMPDIR)/vibes-spool.fish' || exit 1; \
	else \
		echo "make install: no man page or completions in $(GENERATED) (made by 'make build'); skipped" >&2; \
	fi
	@# The settings file is the admin's: never overwrite it.
	test -e '$(DESTDIR)$(SYSCONFDIR)/default/vibes-spool' || \
		$(INSTALL) -m 0644 systemd/vibes-spool.env.example '$(DESTDIR)$(SYSCONFDIR)/default/vibes-spool'
	@if [ -z '$(DESTDIR)' ]; then \
		command -v systemd-sysusers >/dev/null || { echo "make install: systemd-sysusers not found; this service needs systemd" >&2; exit 1; }; \
		echo "systemd-sysusers $(SYSUSERSDIR)/vibes-spool.conf"; \
		systemd-sysusers '$(SYSUSERSDIR)/vibes-spool.conf' && \
		echo "systemd-tmpfiles --create $(TMPFILESDIR)/vibes-spool.conf" && \
		systemd-tmpfiles --create '$(TMPFILESDIR)/vibes-spool.conf' || exit 1; \
		if [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload || exit 1; fi; \
		echo; \
		echo "Installed. Next: set OLLAMA_HOST in $(SYSCONFDIR)/default/vibes-spool if Ollama is not on this host, then"; \
		echo "  systemctl enable --now vibes-spool@default.service"; \
		echo "and for OpenAI's Batch API on 127.0.0.1:11435: systemctl enable --now vibes-spool-api@default.service"; \
		echo "and add producers to the group: usermod -aG vibes-spool USER"; \
	fi

# Keeps what is the admin's or the users': the settings in
# $(SYSCONFDIR)/default/vibes-spool and $(SYSCONFDIR)/vibes-spool/, the spool
# /var/spool/vibes-spool with its jobs, and the user and group vibes-spool.
uninstall:
	@if [ -z '$(DESTDIR)' ] && [ -d /run/systemd/system ]; then \
		echo "systemctl stop 'vibes-spool@*.service' 'vibes-spool-api@*.service'"; \
		systemctl stop 'vibes-spool@*.service' 'vibes-spool-api@*.service' || true; \
		echo "systemctl disable vibes-spool@.service vibes-spool-api@.service"; \
		systemctl disable vibes-spool@.service vibes-spool-api@.service || true; \
	fi
	rm -f '$(DESTDIR)$(BINDIR)/vibes-spool' \
	      '$(DESTDIR)$(UNITDIR)/$(UNIT)' \
	      '$(DESTDIR)$(UNITDIR)/$(API_UNIT)' \
	      '$(DESTDIR)$(TMPFILESDIR)/vibes-spool.conf' \
	      '$(DESTDIR)$(SYSUSERSDIR)/vibes-spool.conf' \
	      '$(DESTDIR)$(DOCDIR)/vibes-spool.env.example' \
	      '$(DESTDIR)$(DOCDIR)/README.md' \
	      '$(DESTDIR)$(MANDIR)/man1/vibes-spool.1' \
	      '$(DESTDIR)$(BASHCOMPDIR)/vibes-spool' \
	      '$(DESTDIR)$(ZSHCOMPDIR)/_vibes-spool' \
	      '$(DESTDIR)$(FISHCOMPDIR)/vibes-spool.fish'
	rmdir '$(DESTDIR)$(DOCDIR)' 2>/dev/null || true
	@if [ -z '$(DESTDIR)' ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "Kept: $(SYSCONFDIR)/default/vibes-spool, $(SYSCONFDIR)/vibes-spool/, /var/spool/vibes-spool and the user vibes-spool."

check-systemd:
	.ci/check-systemd

check-metrics:
	.ci/check-metrics
