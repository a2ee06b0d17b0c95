# `make install` (DESTDIR, PREFIX) and the Debian package's file list:
# binaries, man pages, systemd units, sysusers.d and tmpfiles.d entries, the
# logrotate snippet, the example configuration and the docs.
#
# The configuration and the log directory are the system's, not the
# prefix's: hushd reads /etc/hush/hush.ini by default and the units name
# that path, so HUSH_CONFDIR stays /etc/hush whatever the prefix (as
# systemd's own files do). The unit directory defaults under the prefix
# (/usr/local/lib/systemd/system is on systemd's search path too); the
# Debian package sets /lib/systemd/system.

set(HUSH_CONFDIR "/etc/hush" CACHE PATH "where hush.ini is installed")
# Relative to the prefix unless given absolute (the Debian package gives
# /lib/systemd/system), so that `cmake --install --prefix` moves them too.
foreach(pair "SYSTEMD_UNITDIR;systemd/system" "SYSUSERSDIR;sysusers.d"
    "TMPFILESDIR;tmpfiles.d")
  list(GET pair 0 var)
  list(GET pair 1 sub)
  if(NOT DEFINED HUSH_${var})
    set(HUSH_${var} "lib/${sub}")
  endif()
endforeach()
set(HUSH_LOGROTATEDIR "/etc/logrotate.d" CACHE PATH "logrotate.d directory")

install(TARGETS hushd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS hush RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET hush-redact)
  install(TARGETS hush-redact RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(FILES docs/man/hush.1 docs/man/hush-redact.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/hushd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# The unit names hushd where this prefix puts it, decided at install time
# (`cmake --install --prefix` may differ from the configured prefix).
install(CODE "
  set(sbin \"${CMAKE_INSTALL_SBINDIR}\")
  if(NOT IS_ABSOLUTE \"\${sbin}\")
    set(sbin \"\${CMAKE_INSTALL_PREFIX}/\${sbin}\")
  endif()
  file(READ \"${CMAKE_SOURCE_DIR}/contrib/systemd/hushd.service\" unit)
  string(REPLACE \"/usr/sbin/hushd\" \"\${sbin}/hushd\" unit \"\${unit}\")
  string(REPLACE \"/etc/hush/\" \"${HUSH_CONFDIR}/\" unit \"\${unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/hushd.service\" \"\${unit}\")
")
install(FILES ${CMAKE_BINARY_DIR}/hushd.service
  DESTINATION ${HUSH_SYSTEMD_UNITDIR})
install(FILES contrib/systemd/hush.sysusers
  DESTINATION ${HUSH_SYSUSERSDIR} RENAME hush.conf)
install(FILES contrib/systemd/hush.tmpfiles
  DESTINATION ${HUSH_TMPFILESDIR} RENAME hush.conf)
install(FILES contrib/systemd/hush.logrotate
  DESTINATION ${HUSH_LOGROTATEDIR} RENAME hush)

# An existing configuration is the administrator's: never overwrite it.
# 0644: it holds no secret (token_hash is a hash) and hushd, dropped to
# hush, reads it again on reload.
install(CODE "
  set(conf \"\$ENV{DESTDIR}${HUSH_CONFDIR}/hush.ini\")
  if(EXISTS \"\${conf}\")
    message(STATUS \"Keeping existing: \${conf}\")
  else()
    file(INSTALL \"${CMAKE_SOURCE_DIR}/contrib/systemd/hush.ini\"
      DESTINATION \"${HUSH_CONFDIR}\"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()")

install(FILES README.md docs/config.md docs/sources.md docs/broker.md
  docs/redact.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES contrib/examples/hush.ini contrib/systemd/hushd.socket
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY contrib/examples/demo-credentials
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
