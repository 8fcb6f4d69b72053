// The libcurl implementation of HttpClient (see http_client.hpp).
//
// Each call leases an easy handle from a small pool (curl_easy_reset keeps the
// connection cache, so keep-alive survives between calls) and runs one attempt
// per try. Retry policy: connection errors, timeouts, truncated bodies
// (CURLE_PARTIAL_FILE or fewer bytes than Content-Length), 429 and 5xx other
// than 501 are retried with exponential backoff (honouring a short Retry-After).
// file:// URLs get synthetic statuses: 200 when read, 404 when missing, so
// callers treat local and remote repositories alike.
#include "net/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "net/credentials.hpp"
#include "net/curl_library.hpp"
#include "util/file_io.hpp"
#include "util/text.hpp"

namespace distill::net {

namespace {

constexpr size_t k_max_error_body = 64 * 1024;
constexpr auto k_max_backoff = std::chrono::milliseconds(10000);
constexpr int k_max_redirects = 10;

using util::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// file:///PATH, and file:/PATH (RFC 8089's form without an authority, which
// specs and apt's sources take too).
bool is_file_url(std::string_view url) {
  return url.size() >= 6 && iequals(url.substr(0, 6), "file:/");
}

// The URL given to libcurl: file:/PATH spelt file:///PATH, the form every
// libcurl reads the same way; every other URL unchanged.
std::string curl_url(const std::string& url) {
  if (is_file_url(url) && (url.size() < 7 || url[6] != '/')) {
    return "file://" + url.substr(5);
  }
  return url;
}

bool code_is_transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl::library().slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl::library().easy_cleanup(handle); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

// A bounded pool of easy handles; handles are reset before reuse.
class HandlePool {
 public:
  Easy take() {
    {
      std::lock_guard lock(m_mutex);
      if (!m_free.empty()) {
        Easy handle = std::move(m_free.back());
        m_free.pop_back();
        curl::library().easy_reset(handle.get());
        return handle;
      }
    }
    return Easy(curl::library().easy_init());
  }
  void give_back(Easy handle) {
    if (!handle) {
      return;
    }
    std::lock_guard lock(m_mutex);
    if (m_free.size() < 16) {
      m_free.push_back(std::move(handle));
    }
  }

 private:
  std::mutex m_mutex;
  std::vector<Easy> m_free;
};

// What one attempt produced.
struct Attempt {
  CURLcode code = CURLE_OK;
  std::string curl_message;
  HttpResponse response;
  bool truncated = false;
  bool sink_failed = false;
  Error sink_error;
};

// State shared with the libcurl callbacks during one attempt.
struct TransferState {
  HttpResponse* response = nullptr;
  bool file_scheme = false;
  long last_status = 0;
  // Where body bytes go: a sink (download) or response->body (send).
  const std::function<Status(std::string_view)>* sink = nullptr;
  const ProgressFn* progress = nullptr;
  const std::function<bool()>* stop_requested = nullptr;
  uint64_t body_bytes = 0;  // bytes of the final response's body seen
  bool sink_failed = false;
  Error sink_error;
  std::FILE* upload = nullptr;
  // The upload's expected digest (HttpRequest::body_digest), if any.
  const crypto::Digest* upload_digest = nullptr;
  const std::filesystem::path* upload_path = nullptr;
  uint64_t upload_size = 0;
  uint64_t upload_sent = 0;  // bytes handed to curl since the last rewind
  std::optional<crypto::Sha256> upload_hash;
};

size_t header_callback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
    // A new response (after a redirect or 100 Continue): start over.
    state->response->headers.clear();
    size_t space = line.find(' ');
    if (space != std::string_view::npos) {
      state->last_status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    }
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    state->response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                          std::string(trim(line.substr(colon + 1))));
  }
  return bytes;
}

size_t write_callback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t bytes = size * count;
  state->body_bytes += bytes;
  bool success = state->file_scheme || (state->last_status >= 200 && state->last_status <= 299);
  if (state->sink != nullptr && success) {
    Status status = (*state->sink)(std::string_view(data, bytes));
    if (!status.ok()) {
      state->sink_failed = true;
      state->sink_error = std::move(status).error();
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  // The body of an error response (or of send()) is kept, bounded for errors.
  if (state->sink == nullptr || state->response->body.size() < k_max_error_body) {
    state->response->body.append(data, bytes);
  }
  return bytes;
}

size_t read_callback(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t n = std::fread(buffer, 1, size * count, state->upload);
  if (n == 0 && std::ferror(state->upload) != 0) {
    return CURL_READFUNC_ABORT;
  }
  if (state->upload_digest != nullptr) {
    // The last bytes are held back until the whole file has its digest.
    state->upload_hash->update(buffer, n);
    state->upload_sent += n;
    bool last = state->upload_sent >= state->upload_size || n == 0;
    if (last) {
      crypto::Digest actual = state->upload_hash->finish();
      if (actual != *state->upload_digest) {
        state->sink_failed = true;
        state->sink_error = make_error(
            ErrorKind::Corrupt, state->upload_path->string() + ": content has digest " +
                                    actual.str() + ", expected " + state->upload_digest->str());
        return CURL_READFUNC_ABORT;
      }
    }
  }
  return n;
}

// curl rewinds an upload when it must send the body again within one attempt
// (a reused connection found dead, a redirect); without this it fails with
// "necessary data rewind wasn't possible".
int seek_callback(void* user, curl_off_t offset, int origin) {
  auto* state = static_cast<TransferState*>(user);
  if (state->upload == nullptr || origin != SEEK_SET ||
      (state->upload_digest != nullptr && offset != 0) ||
      ::fseeko(state->upload, static_cast<off_t>(offset), SEEK_SET) != 0) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  if (state->upload_digest != nullptr) {
    state->upload_hash.emplace();  // a hashed upload restarts from byte 0 only
    state->upload_sent = 0;
  }
  return CURL_SEEKFUNC_OK;
}

int xferinfo_callback(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t /*ultotal*/,
                      curl_off_t /*ulnow*/) {
  auto* state = static_cast<TransferState*>(user);
  if (state->stop_requested != nullptr && (*state->stop_requested)()) {
    return 1;  // curl stops with CURLE_ABORTED_BY_CALLBACK
  }
  if (state->progress != nullptr && *state->progress) {
    (*state->progress)(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal));
  }
  return 0;
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// Reads every regular file ending in `suffix` in `dir`, sorted by name.
std::vector<std::filesystem::path> files_with_suffix(const std::filesystem::path& dir,
                                                     std::string_view suffix) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix) && entry.is_regular_file(ec)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(TransferOptions options) : m_options(std::move(options)) { load_cert_dir(); }

  Result<HttpResponse> send(const HttpRequest& request) override {
    return run(request, nullptr, nullptr, nullptr);
  }

  Result<HttpResponse> download(const HttpRequest& request,
                                const std::function<Status(std::string_view)>& sink,
                                const std::function<void()>& sink_reset,
                                const ProgressFn& progress) override {
    DISTILL_TRY(HttpResponse response, run(request, &sink, &sink_reset, &progress));
    if (response.status < 200 || response.status > 299) {
      if (request.error_status_as_response) {
        return response;
      }
      return make_error(
          response.status == 404 ? ErrorKind::NotFound : ErrorKind::Network,
          request.method + " " + request.url + ": HTTP " + std::to_string(response.status));
    }
    response.body.clear();
    return response;
  }

 private:
  // podman/skopeo --cert-dir: *.crt are extra CAs, *.cert + *.key a client cert.
  void load_cert_dir() {
    if (m_options.cert_dir.empty()) {
      return;
    }
    std::vector<std::filesystem::path> cas = files_with_suffix(m_options.cert_dir, ".crt");
    if (!cas.empty()) {
      auto lib = curl::load();  // a failure is reported by the first transfer
      curl_version_info_data* info = lib.ok() ? (*lib)->version_info(CURLVERSION_NOW) : nullptr;
      std::string bundle;
      // Extra CAs add to the system ones rather than replacing them.
      if (info != nullptr && info->cainfo != nullptr) {
        auto system = util::read_file(info->cainfo);
        if (system.ok()) {
          bundle = std::move(*system);
        }
      }
      for (const auto& path : cas) {
        auto pem = util::read_file(path);
        if (pem.ok()) {
          bundle += "\n" + *pem + "\n";
        }
      }
      m_ca_bundle = std::move(bundle);
    }
    for (const auto& cert : files_with_suffix(m_options.cert_dir, ".cert")) {
      std::filesystem::path key = cert;
      key.replace_extension(".key");
      if (std::filesystem::exists(key)) {
        m_client_cert = cert;
        m_client_key = key;
        break;
      }
    }
  }

  Result<HttpResponse> run(const HttpRequest& request,
                           const std::function<Status(std::string_view)>* sink,
                           const std::function<void()>* sink_reset, const ProgressFn* progress) {
    if (auto lib = curl::load(); !lib.ok()) {
      return make_error(lib.error().kind,
                        request.method + " " + request.url + ": " + lib.error().message);
    }
    int attempts = request.retry_transient ? std::max(0, m_options.retries) + 1 : 1;
    std::chrono::milliseconds backoff = m_options.initial_backoff;
    std::string last_problem;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0 && sink_reset != nullptr && *sink_reset) {
        (*sink_reset)();
      }
      if (m_options.stop_requested && m_options.stop_requested()) {
        return make_error(ErrorKind::Io, request.method + " " + request.url + ": interrupted");
      }
      DISTILL_TRY(Attempt result, perform(request, sink, progress));
      if (result.sink_failed) {
        return std::move(result.sink_error);
      }
      if (result.code == CURLE_ABORTED_BY_CALLBACK) {
        return make_error(ErrorKind::Io, request.method + " " + request.url + ": interrupted");
      }
      bool transient = false;
      std::chrono::milliseconds wait = backoff;
      if (result.code != CURLE_OK) {
        if (!code_is_transient(result.code)) {
          return make_error(ErrorKind::Network,
                            request.method + " " + request.url + ": " + result.curl_message);
        }
        transient = true;
        last_problem = result.curl_message;
      } else if (result.truncated) {
        transient = true;
        last_problem = "body shorter than Content-Length";
      } else if (status_is_transient(result.response.status)) {
        transient = true;
        last_problem = "HTTP " + std::to_string(result.response.status);
        wait = std::max(wait, retry_after(result.response));
        if (attempt + 1 == attempts) {
          return std::move(result.response);  // a completed response, even if 5xx
        }
      }
      if (!transient) {
        return std::move(result.response);
      }
      if (attempt + 1 < attempts) {
        std::this_thread::sleep_for(std::min(wait, k_max_backoff));
        backoff *= 2;
      }
    }
    return make_error(ErrorKind::Network, request.method + " " + request.url + ": " + last_problem +
                                              " (after " + std::to_string(attempts) + " attempts)");
  }

  Result<Attempt> perform(const HttpRequest& request,
                          const std::function<Status(std::string_view)>* sink,
                          const ProgressFn* progress) {
    Easy easy = m_pool.take();
    if (!easy) {
      return make_error(ErrorKind::Internal, request.url + ": curl_easy_init failed");
    }
    CURL* h = easy.get();
    const curl::Library& lib = curl::library();
    Attempt attempt;
    TransferState state;
    state.response = &attempt.response;
    state.file_scheme = is_file_url(request.url);
    const std::string url = curl_url(request.url);
    state.sink = sink;
    state.progress = progress;

    char error_buffer[CURL_ERROR_SIZE] = {0};
    lib.easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    lib.easy_setopt(h, CURLOPT_URL, url.c_str());
    // Source URLs carry no userinfo (strip_credentials): their credentials,
    // or apt's auth.conf ones, are looked up here. Pooled handles are reset.
    auto credentials = credentials_for(request.url);
    lib.easy_setopt(h, CURLOPT_USERNAME, credentials ? credentials->login.c_str() : nullptr);
    lib.easy_setopt(h, CURLOPT_PASSWORD, credentials ? credentials->password.c_str() : nullptr);
    lib.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    lib.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
    lib.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    lib.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    lib.easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(k_max_redirects));
    lib.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, m_options.connect_timeout_seconds);
    lib.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    lib.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, m_options.low_speed_seconds);
    lib.easy_setopt(h, CURLOPT_USERAGENT, m_options.user_agent.c_str());
    lib.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, m_options.tls_verify ? 1L : 0L);
    lib.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, m_options.tls_verify ? 2L : 0L);
    if (!m_ca_bundle.empty()) {
      curl_blob blob{m_ca_bundle.data(), m_ca_bundle.size(), CURL_BLOB_NOCOPY};
      lib.easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!m_client_cert.empty()) {
      lib.easy_setopt(h, CURLOPT_SSLCERT, m_client_cert.c_str());
      lib.easy_setopt(h, CURLOPT_SSLKEY, m_client_key.c_str());
    }
    lib.easy_setopt(h, CURLOPT_HEADERFUNCTION, header_callback);
    lib.easy_setopt(h, CURLOPT_HEADERDATA, &state);
    lib.easy_setopt(h, CURLOPT_WRITEFUNCTION, write_callback);
    lib.easy_setopt(h, CURLOPT_WRITEDATA, &state);
    if (m_options.stop_requested) {
      state.stop_requested = &m_options.stop_requested;
    }
    if ((progress != nullptr && *progress) || state.stop_requested != nullptr) {
      lib.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      lib.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_callback);
      lib.easy_setopt(h, CURLOPT_XFERINFODATA, &state);
    }

    Slist headers;
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      headers.reset(lib.slist_append(headers.release(), line.c_str()));
      has_content_type = has_content_type || iequals(name, "Content-Type");
    }

    std::unique_ptr<std::FILE, FileCloser> upload;
    const std::string& method = request.method;
    bool has_body = !request.body.empty() || !request.body_file.empty() ||
                    (method != "GET" && method != "HEAD" && method != "DELETE");
    if (method == "HEAD") {
      lib.easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!request.body_file.empty()) {
      upload.reset(std::fopen(request.body_file.c_str(), "rb"));
      if (!upload) {
        return util::errno_error(request.body_file, errno).context(method + " " + request.url);
      }
      std::error_code ec;
      auto size = std::filesystem::file_size(request.body_file, ec);
      if (ec) {
        return make_error(ErrorKind::Io, request.body_file.string() + ": " + ec.message());
      }
      state.upload = upload.get();
      if (request.body_digest) {
        state.upload_digest = &*request.body_digest;
        state.upload_path = &request.body_file;
        state.upload_size = size;
        state.upload_hash.emplace();
      }
      lib.easy_setopt(h, CURLOPT_UPLOAD, 1L);
      lib.easy_setopt(h, CURLOPT_READFUNCTION, read_callback);
      lib.easy_setopt(h, CURLOPT_READDATA, &state);
      lib.easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_callback);
      lib.easy_setopt(h, CURLOPT_SEEKDATA, &state);
      lib.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
      if (method != "PUT") {
        lib.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      }
    } else if (has_body) {
      lib.easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      lib.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      if (method != "POST") {
        lib.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      }
    } else if (method != "GET") {
      lib.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (has_body && method != "HEAD") {
      // No form-encoding default and no 100-continue round trip.
      if (!has_content_type) {
        headers.reset(lib.slist_append(headers.release(), "Content-Type:"));
      }
      headers.reset(lib.slist_append(headers.release(), "Expect:"));
    }
    if (headers) {
      lib.easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    }

    attempt.code = lib.easy_perform(h);
    long status = 0;
    lib.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    char* effective = nullptr;
    lib.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
    attempt.response.effective_url = effective != nullptr ? effective : request.url;
    curl_off_t expected_length = -1;
    lib.easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected_length);
    // Nothing of the handle is used past this point but the status copy.
    m_pool.give_back(std::move(easy));

    if (state.sink_failed) {
      attempt.sink_failed = true;
      attempt.sink_error = std::move(state.sink_error);
      return attempt;
    }
    if (state.file_scheme) {
      if (attempt.code == CURLE_FILE_COULDNT_READ_FILE) {
        attempt.code = CURLE_OK;
        attempt.response.status = 404;
        return attempt;
      }
      attempt.response.status = attempt.code == CURLE_OK ? 200 : 0;
    } else {
      attempt.response.status = status;
    }
    if (attempt.code != CURLE_OK) {
      attempt.curl_message = error_buffer[0] != '\0' ? std::string(error_buffer)
                                                     : std::string(lib.easy_strerror(attempt.code));
      return attempt;
    }
    if (method != "HEAD" && expected_length >= 0 &&
        state.body_bytes < static_cast<uint64_t>(expected_length)) {
      attempt.truncated = true;
    }
    return attempt;
  }

  TransferOptions m_options;
  std::string m_ca_bundle;
  std::filesystem::path m_client_cert;
  std::filesystem::path m_client_key;
  HandlePool m_pool;
};

}  // namespace

bool status_is_transient(long status) {
  return status == 429 || (status >= 500 && status <= 599 && status != 501);
}

std::chrono::milliseconds retry_after(const HttpResponse& response) {
  std::string value = response.header("Retry-After");
  if (value.empty() || value.size() > 5 || !std::all_of(value.begin(), value.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(std::stol(value) * 1000);
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return {};
}

std::unique_ptr<HttpClient> make_curl_client(const TransferOptions& options) {
  return std::make_unique<CurlClient>(options);
}

std::string url_join(std::string_view base, std::string_view path) {
  if (base.empty() || path.find("://") != std::string_view::npos) {
    return std::string(path);  // nothing to join, or already absolute
  }
  // Never eat the slashes of "scheme://" (file:/// has an empty host).
  size_t scheme_end = base.find("://");
  size_t keep = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  while (base.size() > keep && base.back() == '/') {
    base.remove_suffix(1);
  }
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  if (path.empty()) {
    return std::string(base) + "/";
  }
  return std::string(base) + "/" + std::string(path);
}

}  // namespace distill::net
