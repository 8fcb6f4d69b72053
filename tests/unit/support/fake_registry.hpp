// A registry in memory for unit tests: enough of distribution-spec v1.1 for
// pushes, manifest GETs and (optionally) the referrers API, as an HttpClient
// a RegistryClient talks to.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/sha256.hpp"
#include "net/http_client.hpp"
#include "oci/descriptor.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "util/file_io.hpp"

namespace distill::test {

class FakeRegistry : public net::HttpClient {
 public:
  bool referrers_api = false;
  bool oci_subject_header = false;
  std::map<std::string, std::string> blobs;      // digest -> bytes
  std::map<std::string, std::string> manifests;  // "repo@ref" -> bytes
  std::map<std::string, std::string> types;      // "repo@ref" -> media type
  int manifest_puts = 0;
  // Called after a manifest PUT is stored, with its "repo@ref" key and while
  // the registry is locked: a test acts there as another client writing at
  // that moment.
  std::function<void(FakeRegistry&, const std::string& key)> after_manifest_put;

  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    std::lock_guard lock(m_mutex);  // pushes upload blobs on several threads
    net::HttpResponse response;
    std::string path = request.url.substr(request.url.find('/', std::string("http://").size()));
    if (path == "/v2/") {
      response.status = 200;
      return response;
    }
    if (path.starts_with("/upload/")) {
      std::string digest = path.substr(path.find("digest=") + 7);
      digest.replace(digest.find("%3A"), 3, ":");
      auto data = request.body_file.empty() ? Result<std::string>(request.body)
                                            : util::read_file(request.body_file);
      blobs[digest] = *data;
      response.status = 201;
      return response;
    }
    // /v2/<repo>/<kind>/<rest>
    std::string rest = path.substr(4);
    for (const char* kind : {"/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/"}) {
      size_t at = rest.find(kind);
      if (at == std::string::npos) {
        continue;
      }
      std::string repo = rest.substr(0, at);
      std::string ref = rest.substr(at + std::string(kind).size());
      std::string k = kind;
      if (k == "/blobs/uploads/") {
        response.status = 202;
        response.headers.emplace_back("Location", "/upload/1");
      } else if (k == "/blobs/") {
        response.status = blobs.count(ref) != 0 ? 200 : 404;
      } else if (k == "/manifests/" && request.method == "PUT") {
        ++manifest_puts;
        std::string digest = crypto::sha256(request.body).str();
        for (const auto& key : {repo + "@" + ref, repo + "@" + digest}) {
          manifests[key] = request.body;
          types[key] = request.headers.front().second;
        }
        auto json = nlohmann::json::parse(request.body);
        if (oci_subject_header && json.contains("subject")) {
          response.headers.emplace_back("OCI-Subject", json["subject"]["digest"]);
        }
        response.status = 201;
        if (after_manifest_put) {
          after_manifest_put(*this, repo + "@" + ref);
        }
      } else if (k == "/manifests/") {
        auto found = manifests.find(repo + "@" + ref);
        response.status = found != manifests.end() ? 200 : 404;
        if (found != manifests.end()) {
          response.body = found->second;
          response.headers.emplace_back("Content-Type", types[repo + "@" + ref]);
        }
      } else if (!referrers_api) {
        response.status = 404;
      } else {
        oci::Index index;
        for (const auto& [key, body] : manifests) {
          auto json = nlohmann::json::parse(body);
          if (key.starts_with(repo + "@sha256:") && json.contains("subject") &&
              json["subject"]["digest"] == ref) {
            oci::Descriptor entry = oci::describe(body, std::string(oci::k_media_oci_manifest));
            entry.artifact_type = json.value("artifactType", "");
            index.manifests.push_back(entry);
          }
        }
        response.status = 200;
        response.body = index.to_json();
      }
      return response;
    }
    response.status = 404;
    return response;
  }

  Result<net::HttpResponse> download(const net::HttpRequest&,
                                     const std::function<Status(std::string_view)>&,
                                     const std::function<void()>&,
                                     const net::ProgressFn&) override {
    return make_error(ErrorKind::Unsupported, "not used");
  }

 private:
  std::mutex m_mutex;
};

}  // namespace distill::test
