# CMake package config for eta-hamming, installed by `cargo cinstall` (cargo-c) into
# <prefix>/share/cmake/eta_hamming/ (Cargo.toml, [package.metadata.capi.install.data]).
#
#   find_package(eta_hamming 0.1 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE eta_hamming::eta_hamming)
#
# Targets:
#   eta_hamming::shared       libeta_hamming.so (SONAME libeta_hamming.so.<major>.<minor>)
#   eta_hamming::static       libeta_hamming.a plus the system libraries Rust's std needs
#   eta_hamming::eta_hamming  the shared one, or the static one when ETA_HAMMING_STATIC is ON
#                             (or when only the static library is installed)
#
# The library directory is found under the prefix: lib/, lib64/ or Debian's multiarch
# lib/<triple>/ (cargo-c's default libdir on Debian), so any `--libdir` under the prefix works.
# The install layout must keep cargo-c's default datadir (<prefix>/share).

cmake_minimum_required(VERSION 3.14)

get_filename_component(_eta_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

set(_eta_libdirs "${_eta_prefix}/lib" "${_eta_prefix}/lib64")
if(CMAKE_LIBRARY_ARCHITECTURE)
  list(PREPEND _eta_libdirs "${_eta_prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()
file(GLOB _eta_multiarch LIST_DIRECTORIES true "${_eta_prefix}/lib/*-*-*")
list(APPEND _eta_libdirs ${_eta_multiarch})

find_path(eta_hamming_INCLUDE_DIR eta_hamming.h
  PATHS "${_eta_prefix}/include" NO_DEFAULT_PATH)
find_library(eta_hamming_SHARED_LIBRARY
  NAMES "${CMAKE_SHARED_LIBRARY_PREFIX}eta_hamming${CMAKE_SHARED_LIBRARY_SUFFIX}"
  PATHS ${_eta_libdirs} NO_DEFAULT_PATH)
find_library(eta_hamming_STATIC_LIBRARY
  NAMES "${CMAKE_STATIC_LIBRARY_PREFIX}eta_hamming${CMAKE_STATIC_LIBRARY_SUFFIX}"
  PATHS ${_eta_libdirs} NO_DEFAULT_PATH)
mark_as_advanced(eta_hamming_INCLUDE_DIR eta_hamming_SHARED_LIBRARY eta_hamming_STATIC_LIBRARY)

if(NOT eta_hamming_INCLUDE_DIR OR (NOT eta_hamming_SHARED_LIBRARY AND NOT eta_hamming_STATIC_LIBRARY))
  set(eta_hamming_FOUND FALSE)
  set(eta_hamming_NOT_FOUND_MESSAGE
    "eta_hamming.h or libeta_hamming not found under ${_eta_prefix} (include/, lib/, lib64/, lib/<triple>/)")
  return()
endif()

if(eta_hamming_SHARED_LIBRARY AND NOT TARGET eta_hamming::shared)
  add_library(eta_hamming::shared SHARED IMPORTED)
  set_target_properties(eta_hamming::shared PROPERTIES
    IMPORTED_LOCATION "${eta_hamming_SHARED_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${eta_hamming_INCLUDE_DIR}")
  # The installed library has a SONAME, so NEEDED names it, not this path.
  get_filename_component(_eta_real "${eta_hamming_SHARED_LIBRARY}" REALPATH)
  get_filename_component(_eta_real_name "${_eta_real}" NAME)
  if(_eta_real_name MATCHES "^(.*\\.so\\.[0-9]+\\.[0-9]+)")
    set_target_properties(eta_hamming::shared PROPERTIES IMPORTED_SONAME "${CMAKE_MATCH_1}")
  endif()
endif()

if(eta_hamming_STATIC_LIBRARY AND NOT TARGET eta_hamming::static)
  add_library(eta_hamming::static STATIC IMPORTED)
  set_target_properties(eta_hamming::static PROPERTIES
    IMPORTED_LOCATION "${eta_hamming_STATIC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${eta_hamming_INCLUDE_DIR}"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C")
  # What `rustc --print native-static-libs` lists for the Rust standard library.
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads REQUIRED)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(_eta_native Threads::Threads gcc_s util rt m ${CMAKE_DL_LIBS} c)
  elseif(APPLE)
    set(_eta_native Threads::Threads System c m)
  else()
    set(_eta_native Threads::Threads m)
  endif()
  set_target_properties(eta_hamming::static PROPERTIES
    INTERFACE_LINK_LIBRARIES "${_eta_native}")
endif()

if(NOT TARGET eta_hamming::eta_hamming)
  if((ETA_HAMMING_STATIC OR NOT eta_hamming_SHARED_LIBRARY) AND TARGET eta_hamming::static)
    add_library(eta_hamming::eta_hamming ALIAS eta_hamming::static)
  elseif(TARGET eta_hamming::shared)
    add_library(eta_hamming::eta_hamming ALIAS eta_hamming::shared)
  else()
    set(eta_hamming_FOUND FALSE)
    set(eta_hamming_NOT_FOUND_MESSAGE "ETA_HAMMING_STATIC is ON but no libeta_hamming.a is installed")
    return()
  endif()
endif()

set(eta_hamming_INCLUDE_DIRS "${eta_hamming_INCLUDE_DIR}")
set(eta_hamming_LIBRARIES eta_hamming::eta_hamming)
unset(_eta_prefix)
unset(_eta_libdirs)
unset(_eta_multiarch)
unset(_eta_native)
