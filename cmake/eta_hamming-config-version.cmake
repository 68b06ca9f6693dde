# Version check for find_package(eta_hamming <version> CONFIG). The version is the crate's
# (Cargo.toml; tests/header.rs checks they agree). Before 1.0 a minor release may change the ABI
# (the SONAME is libeta_hamming.so.0.<minor>), so 0.x versions are compatible only within the
# same minor version; from 1.0 on, within the same major version.
set(PACKAGE_VERSION "0.1.0")

if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  string(REPLACE "." ";" _eta_v "${PACKAGE_VERSION}")
  list(GET _eta_v 0 _eta_major)
  list(GET _eta_v 1 _eta_minor)
  if(NOT PACKAGE_FIND_VERSION_MAJOR EQUAL _eta_major)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  elseif(_eta_major EQUAL 0 AND NOT PACKAGE_FIND_VERSION_MINOR EQUAL _eta_minor)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  else()
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
    if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
      set(PACKAGE_VERSION_EXACT TRUE)
    endif()
  endif()
  unset(_eta_v)
  unset(_eta_major)
  unset(_eta_minor)
endif()

