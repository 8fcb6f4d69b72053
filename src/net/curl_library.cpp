// libcurl through dlopen: see curl_library.hpp.
#include "net/curl_library.hpp"

#include <dlfcn.h>

#include <string>

namespace distill::net::curl {

namespace {

constexpr const char* k_soname = "libcurl.so.4";

struct Loaded {
  Library library;
  std::string error;  // empty when loaded
};

template <class Fn>
bool resolve(void* handle, const char* name, Fn& out, std::string& error) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr) {
    error = std::string(k_soname) + ": no symbol " + name;
    return false;
  }
  out = reinterpret_cast<Fn>(symbol);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  return true;
}

Loaded open_library() {
  Loaded loaded;
  // Never closed: handles and the global state live until the process ends.
  void* handle = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    loaded.error = std::string("cannot load ") + k_soname +
                   " (libcurl, needed for downloads): " + (why != nullptr ? why : "unknown error");
    return loaded;
  }
  Library& l = loaded.library;
  std::string& e = loaded.error;
  bool ok = resolve(handle, "curl_global_init", l.global_init, e) &&
            resolve(handle, "curl_version_info", l.version_info, e) &&
            resolve(handle, "curl_easy_init", l.easy_init, e) &&
            resolve(handle, "curl_easy_reset", l.easy_reset, e) &&
            resolve(handle, "curl_easy_cleanup", l.easy_cleanup, e) &&
            resolve(handle, "curl_easy_setopt", l.easy_setopt, e) &&
            resolve(handle, "curl_easy_getinfo", l.easy_getinfo, e) &&
            resolve(handle, "curl_easy_perform", l.easy_perform, e) &&
            resolve(handle, "curl_easy_strerror", l.easy_strerror, e) &&
            resolve(handle, "curl_slist_append", l.slist_append, e) &&
            resolve(handle, "curl_slist_free_all", l.slist_free_all, e);
  if (ok && l.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    e = std::string(k_soname) + ": curl_global_init failed";
  }
  return loaded;
}

const Loaded& loaded() {
  static const Loaded once = open_library();  // thread-safe initialisation
  return once;
}

}  // namespace

Result<const Library*> load() {
  const Loaded& l = loaded();
  if (!l.error.empty()) {
    return make_error(ErrorKind::Internal, l.error);
  }
  return &l.library;
}

const Library& library() { return loaded().library; }

}  // namespace distill::net::curl
