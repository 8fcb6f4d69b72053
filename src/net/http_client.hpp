// HttpClient: the one seam through which distill talks HTTP (and file://).
//
// Everything above this layer (apt repositories, registries) codes against the
// abstract interface so unit tests can substitute a fake; make_curl_client()
// returns the real libcurl implementation with retries, exponential backoff,
// timeouts and truncation detection. Status codes follow RFC 9110; transient
// failures are connection errors, timeouts, 429, 5xx except 501 and bodies
// shorter than their Content-Length.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/sha256.hpp"
#include "util/interrupt.hpp"
#include "util/result.hpp"

namespace distill::net {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Upload from a file when set (PUT of big blobs); `body` is then ignored.
  std::filesystem::path body_file;
  // With body_file: the digest the file must have. It is hashed as it is
  // sent, and a file that differs ends the upload before its last byte is
  // sent (a Corrupt error naming the file), so a request never completes with
  // bytes other than the ones named.
  std::optional<crypto::Digest> body_digest;
  // false: one attempt only, whatever happens; the caller decides what to
  // repeat (a PUT into a registry upload session must not be sent twice: a
  // cut-short first try may have left part of the body in the session).
  bool retry_transient = true;
  // download(): a final status outside 2xx is returned as the response (its
  // headers and the start of its body) rather than as an error, for a caller
  // that acts on it (a registry's 401 asking for a new token).
  bool error_status_as_response = false;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string effective_url;

  // Case-insensitive lookup of the first header called `name`; "" if none.
  [[nodiscard]] std::string header(std::string_view name) const;
};

// Statuses worth asking again: 429 and 5xx but 501.
bool status_is_transient(long status);
// A short Retry-After (whole seconds, at most 5 digits) of an answer, else zero.
std::chrono::milliseconds retry_after(const HttpResponse& response);

using ProgressFn = std::function<void(uint64_t bytes_now, uint64_t bytes_total)>;

struct TransferOptions {
  int retries = 4;  // extra attempts after the first
  std::chrono::milliseconds initial_backoff{200};
  long connect_timeout_seconds = 15;
  long low_speed_seconds = 30;  // abort when below 1 byte/s for this long
  bool tls_verify = true;
  std::filesystem::path cert_dir;
  std::string user_agent = "distill/0.1";
  // Asked while a transfer runs and before each attempt: true ends it with an
  // "interrupted" error, never retried (Ctrl-C under util::catch_interrupts,
  // so an interrupted push sends no manifest). Empty: never.
  std::function<bool()> stop_requested = util::interrupted;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Returns any completed HTTP response (4xx/5xx too) after retrying transient
  // failures (connection errors, timeouts, 5xx except 501, 429, truncated
  // bodies) with exponential backoff. Error(Network) naming the URL when no
  // response is obtained.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;

  // GET streaming the body to `sink`; retries as send() does, calling
  // sink_reset() before each retry. A non-2xx final status is
  // Error(Network, or NotFound for 404) "GET <url>: HTTP <status>" (unless
  // request.error_status_as_response); a body shorter than Content-Length is
  // a transient failure. The returned response has an empty body (it went to
  // the sink) when its status is 2xx.
  virtual Result<HttpResponse> download(const HttpRequest& request,
                                        const std::function<Status(std::string_view)>& sink,
                                        const std::function<void()>& sink_reset,
                                        const ProgressFn& progress) = 0;
};

// The libcurl client. Thread-safe: one easy handle per call. Follows redirects
// only to http/https (and file:// for file:// requests); supports file:// URLs.
std::unique_ptr<HttpClient> make_curl_client(const TransferOptions& options = {});

// Joins a base URL and a relative path with exactly one '/' between them:
// url_join("http://h/debian/", "/dists/x") == "http://h/debian/dists/x".
std::string url_join(std::string_view base, std::string_view path);

}  // namespace distill::net
