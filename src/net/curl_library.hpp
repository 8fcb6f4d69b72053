// libcurl, loaded on the first transfer rather than when distill starts.
//
// Linked the usual way, libcurl and the thirty-odd libraries it needs (TLS,
// Kerberos, LDAP, SSH, IDN, PSL, HTTP/2, brotli) were mapped and relocated by
// every run: 6-7 ms and about 650 page faults, two thirds of the start-up of
// `distill --version`, and paid by every command that makes no request at all
// (a no-op rebuild, inspect or test of a layout, a warm build whose Release
// copies are fresh). The client calls libcurl through these functions, which
// dlopen the library (soname libcurl.so.4, the ABI the headers describe) once,
// on the first call to load().
#pragma once

#include <curl/curl.h>

#include "util/result.hpp"

namespace distill::net::curl {

// The entry points used, resolved from the loaded library.
struct Library {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_version_info) version_info = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// Loads libcurl and runs curl_global_init, once per process (thread-safe);
// an error names the library and says why it could not be loaded.
Result<const Library*> load();

// The loaded library; only after load() succeeded.
const Library& library();

}  // namespace distill::net::curl
