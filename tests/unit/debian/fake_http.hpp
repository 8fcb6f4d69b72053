// FakeHttp: an HttpClient serving files from a map (anything else is a 404),
// recording every URL asked for; for the tests that load a signed repository
// generated in a temp dir (repository loading, Contents indexes, and the
// build pipeline's in-memory repository).
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_client.hpp"

namespace distill::debian::fakes {

class FakeHttp : public net::HttpClient {
 public:
  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_requests.push_back(request.url);
    net::HttpResponse response;
    auto it = m_files.find(request.url);
    response.status = it != m_files.end() ? 200 : 404;
    if (it != m_files.end()) {
      response.body = it->second;
      if (m_corrupt.count(request.url) != 0 && !response.body.empty()) {
        response.body.back() = static_cast<char>(response.body.back() ^ 1);
      }
    }
    return response;
  }
  Result<net::HttpResponse> download(const net::HttpRequest& request,
                                     const std::function<Status(std::string_view)>& sink,
                                     const std::function<void()>& sink_reset,
                                     const net::ProgressFn& /*progress*/) override {
    DISTILL_TRY(auto response, send(request));
    if (response.status != 200) {
      return make_error(ErrorKind::NotFound, "GET " + request.url + ": HTTP 404");
    }
    if (std::any_of(m_glitch.begin(), m_glitch.end(), [&](const std::string& needle) {
          return request.url.find(needle) != std::string::npos;
        })) {
      // A transfer that broke off halfway and was retried from the start.
      DISTILL_CHECK(sink(std::string_view(response.body).substr(0, response.body.size() / 2)));
      sink_reset();
    }
    DISTILL_CHECK(sink(response.body));
    response.body.clear();
    return response;
  }
  // How many requests so far had `needle` in their URL.
  size_t count(std::string_view needle) {
    std::lock_guard<std::mutex> lock(m_mutex);
    return static_cast<size_t>(std::count_if(
        m_requests.begin(), m_requests.end(),
        [&](const std::string& url) { return url.find(needle) != std::string::npos; }));
  }
  std::map<std::string, std::string> m_files;
  std::vector<std::string> m_glitch;  // URLs with this in them break off once
  std::set<std::string> m_corrupt;    // URLs served with their last byte flipped
  std::vector<std::string> m_requests;
  std::mutex m_mutex;
};

}  // namespace distill::debian::fakes
