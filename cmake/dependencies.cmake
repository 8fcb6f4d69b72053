# Third-party libraries, all from Debian packages (see scripts/setup.sh).
find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# libcurl's headers only: the library itself is loaded on the first transfer
# (src/net/curl_library.hpp), so commands that make no request never map it.
add_library(curl_headers INTERFACE)
target_include_directories(curl_headers INTERFACE ${CURL_INCLUDE_DIRS})
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(DEFLATE REQUIRED IMPORTED_TARGET libdeflate)
pkg_check_modules(LZMA REQUIRED IMPORTED_TARGET liblzma)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
if(DISTILL_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# Third-party libraries linked into the binaries as static archives
# (DISTILL_STATIC_DEPS, on by default): a warm build of base took 0.393 s with
# the twenty shared libraries (libarchive alone brings libxml2 and ICU) and
# 0.370 s so, `distill --version` 13.9 ms and 6.7 ms (interleaved runs,
# docs/benchmarks.md). Relocating and faulting in the shared objects costs
# every command about 8 ms, a third of a no-op build. libcurl stays shared and
# is opened on the first transfer (src/net/curl_library.hpp). Each layer links
# distill::NAME, which is the static archive or the shared library.

# distill_dependency(NAME SHARED_TARGET ARCHIVES...): the interface target
# distill::NAME. ARCHIVES are the static archives it takes (the library's own
# first, then those of the libraries it calls that distill does not).
function(distill_dependency name shared)
  add_library(distill_dep_${name} INTERFACE)
  add_library(distill::${name} ALIAS distill_dep_${name})
  if(NOT DISTILL_STATIC_DEPS)
    target_link_libraries(distill_dep_${name} INTERFACE ${shared})
    return()
  endif()
  get_target_property(includes ${shared} INTERFACE_INCLUDE_DIRECTORIES)
  if(includes)
    target_include_directories(distill_dep_${name} INTERFACE ${includes})
  endif()
  foreach(archive IN LISTS ARGN)
    find_library(DISTILL_ARCHIVE_${archive} NAMES lib${archive}.a)
    if(NOT DISTILL_ARCHIVE_${archive})
      message(FATAL_ERROR "lib${archive}.a not found (scripts/setup.sh installs it); "
                          "or configure with -DDISTILL_STATIC_DEPS=OFF")
    endif()
    target_link_libraries(distill_dep_${name} INTERFACE ${DISTILL_ARCHIVE_${archive}})
  endforeach()
endfunction()

distill_dependency(crypto OpenSSL::Crypto crypto)
distill_dependency(zlib ZLIB::ZLIB z)
distill_dependency(lzma PkgConfig::LZMA lzma)
distill_dependency(zstd PkgConfig::ZSTD zstd)
distill_dependency(deflate PkgConfig::DEFLATE deflate)
distill_dependency(libarchive PkgConfig::LIBARCHIVE archive nettle bz2)
distill_dependency(re2 PkgConfig::RE2 re2)
distill_dependency(yaml yaml-cpp yaml-cpp)
if(DISTILL_STATIC_DEPS)
  # The archives above reach these too (libarchive's compressors, OpenSSL's
  # threads and dlopen).
  target_link_libraries(distill_dep_libarchive INTERFACE distill_dep_lzma distill_dep_zstd distill_dep_zlib)
  target_link_libraries(distill_dep_crypto INTERFACE Threads::Threads ${CMAKE_DL_LIBS})
  target_link_libraries(distill_dep_re2 INTERFACE Threads::Threads)
endif()
