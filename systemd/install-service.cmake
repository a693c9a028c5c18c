# Run by `cmake --install` (systemd/CMakeLists.txt sets the FEEDD_*
# variables first): feedd.service with ExecStart= naming the binary under
# this install's prefix, feedd.socket, and the example config unless one is
# there already.
if(IS_ABSOLUTE "${FEEDD_BINDIR}")
  set(CMAKE_INSTALL_FULL_BINDIR "${FEEDD_BINDIR}")
else()
  set(CMAKE_INSTALL_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/${FEEDD_BINDIR}")
endif()
if(IS_ABSOLUTE "${FEEDD_UNITDIR}")
  set(unitdir "${FEEDD_UNITDIR}")
else()
  set(unitdir "${CMAKE_INSTALL_PREFIX}/${FEEDD_UNITDIR}")
endif()
configure_file("${FEEDD_SERVICE_IN}" "${FEEDD_SERVICE_OUT}" @ONLY)
file(INSTALL "${FEEDD_SERVICE_OUT}" "${FEEDD_SOCKET}"
     DESTINATION "${unitdir}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE
     GROUP_READ WORLD_READ)

# The config belongs to the admin: an existing one is kept as it is.
if(FEEDD_INSTALL_CONFIG)
  set(conf "$ENV{DESTDIR}/etc/feedd/feedd.conf")
  if(EXISTS "${conf}")
    message(STATUS "Keeping: ${conf}")
  else()
    file(INSTALL "${FEEDD_CONF}" DESTINATION "/etc/feedd"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endif()
