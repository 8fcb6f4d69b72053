// Image reference parsing, following skopeo's transports (containers-transports(5))
// and Docker's reference normalisation (docker.io, library/). See
// docs/formats/oci-refs.md.
#include "oci/image_ref.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "crypto/sha256.hpp"

namespace distill::oci {

namespace {

constexpr std::string_view k_default_tag = "latest";
constexpr std::string_view k_docker_hub = "docker.io";

Error invalid(std::string_view text, const std::string& why) {
  return make_error(ErrorKind::InvalidInput,
                    "invalid image reference \"" + std::string(text) + "\": " + why);
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// org.opencontainers.image.ref.name grammar (image-layout.md): alphanumerics
// joined by -._:@/+ separators.
bool valid_layout_ref(std::string_view ref) {
  if (ref.empty() || !is_alnum(ref.front()) || !is_alnum(ref.back())) {
    return false;
  }
  for (char c : ref) {
    if (!is_alnum(c) && std::string_view("-._:@/+").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Docker repository path: lowercase components separated by '/', each
// alphanumerics joined by '.', '_', '__' or runs of '-'.
bool valid_repository(std::string_view repo) {
  if (repo.empty()) {
    return false;
  }
  size_t start = 0;
  while (start <= repo.size()) {
    size_t end = repo.find('/', start);
    if (end == std::string_view::npos) {
      end = repo.size();
    }
    std::string_view component = repo.substr(start, end - start);
    if (component.empty() || !is_lower_alnum(component.front()) ||
        !is_lower_alnum(component.back())) {
      return false;
    }
    for (char c : component) {
      if (!is_lower_alnum(c) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    if (component.find("..") != std::string_view::npos ||
        component.find("___") != std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// host or host:port (letters, digits, '.', '-'; port digits).
bool valid_registry(std::string_view host) {
  size_t colon = host.find(':');
  std::string_view name = host.substr(0, colon);
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    if (!is_alnum(c) && c != '.' && c != '-') {
      return false;
    }
  }
  if (colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5) {
      return false;
    }
    for (char c : port) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
  }
  return true;
}

struct DockerName {
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
};

// Parses [HOST[:PORT]/]REPO[:TAG][@sha256:HEX] with Docker's normalisation.
Result<DockerName> parse_docker_name(std::string_view whole, std::string_view text) {
  DockerName name;
  size_t at = text.find('@');
  if (at != std::string_view::npos) {
    std::string_view digest = text.substr(at + 1);
    if (!crypto::Digest::parse(digest).ok()) {
      return invalid(whole, "digest must be sha256:<64 lowercase hex>");
    }
    name.digest = std::string(digest);
    text = text.substr(0, at);
  }
  size_t slash = text.rfind('/');
  size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = text.substr(colon + 1);
    if (!valid_tag(tag)) {
      return invalid(whole, "bad tag \"" + std::string(tag) + "\"");
    }
    name.tag = std::string(tag);
    text = text.substr(0, colon);
  }
  size_t first = text.find('/');
  std::string_view head = text.substr(0, first);
  bool has_domain = first != std::string_view::npos &&
                    (head.find_first_of(".:") != std::string_view::npos || head == "localhost");
  if (has_domain) {
    if (!valid_registry(head)) {
      return invalid(whole, "bad registry \"" + std::string(head) + "\"");
    }
    name.registry = head == "index.docker.io" ? std::string(k_docker_hub) : std::string(head);
    name.repository = std::string(text.substr(first + 1));
    if (name.registry == k_docker_hub && name.repository.find('/') == std::string::npos) {
      name.repository = "library/" + name.repository;
    }
  } else {
    name.registry = std::string(k_docker_hub);
    name.repository = std::string(text);
    if (first == std::string_view::npos) {
      name.repository = "library/" + name.repository;
    }
  }
  if (!valid_repository(name.repository)) {
    return invalid(whole, "bad repository name \"" + name.repository +
                              "\" (lowercase letters, digits and . _ - separators)");
  }
  return name;
}

// Splits "PATH[:REST]" at the first ':'.
std::pair<std::string_view, std::optional<std::string_view>> split_path(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return {text, std::nullopt};
  }
  return {text.substr(0, colon), text.substr(colon + 1)};
}

}  // namespace

Result<ImageRef> ImageRef::parse(std::string_view text) {
  ImageRef ref;
  if (text.starts_with("oci:") || text.starts_with("oci-archive:")) {
    bool archive = text.starts_with("oci-archive:");
    ref.transport = archive ? Transport::OciArchive : Transport::OciLayout;
    auto [path, rest] = split_path(text.substr(archive ? 12 : 4));
    if (path.empty()) {
      return invalid(text, archive ? "missing archive file" : "missing layout directory");
    }
    ref.path = std::string(path);
    ref.tag = rest && !rest->empty() ? std::string(*rest) : std::string(k_default_tag);
    if (!valid_layout_ref(ref.tag)) {
      return invalid(text, "bad reference name \"" + ref.tag + "\"");
    }
    return ref;
  }
  if (text.starts_with("docker-archive:")) {
    ref.transport = Transport::DockerArchive;
    auto [path, rest] = split_path(text.substr(15));
    if (path.empty()) {
      return invalid(text, "missing archive file");
    }
    ref.path = std::string(path);
    if (rest && !rest->empty()) {
      // NAME[:TAG] as written (the RepoTags form), validated as a Docker name.
      DISTILL_TRY(DockerName name, parse_docker_name(text, *rest));
      if (!name.digest.empty()) {
        return invalid(text, "docker-archive references take NAME:TAG, not a digest");
      }
      std::string_view written = *rest;
      size_t slash = written.rfind('/');
      size_t colon = written.rfind(':');
      if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        written = written.substr(0, colon);
      }
      ref.name = std::string(written);
      ref.tag = name.tag.empty() ? std::string(k_default_tag) : name.tag;
    }
    return ref;
  }
  if (text.starts_with("docker://")) {
    ref.transport = Transport::Registry;
    std::string_view rest = text.substr(9);
    if (rest.empty()) {
      return invalid(text, "missing repository");
    }
    DISTILL_TRY(DockerName name, parse_docker_name(text, rest));
    ref.registry = std::move(name.registry);
    ref.name = std::move(name.repository);
    ref.digest = std::move(name.digest);
    ref.tag = name.tag;
    if (ref.tag.empty() && ref.digest.empty()) {
      ref.tag = std::string(k_default_tag);
    }
    return ref;
  }
  return invalid(text,
                 "expected oci:DIR[:REF], oci-archive:FILE[:REF], "
                 "docker-archive:FILE[:NAME:TAG] or docker://HOST/REPO[:TAG]");
}

std::string ImageRef::to_string() const {
  switch (transport) {
    case Transport::OciLayout:
      return "oci:" + path.string() + ":" + tag;
    case Transport::OciArchive:
      return "oci-archive:" + path.string() + ":" + tag;
    case Transport::DockerArchive: {
      std::string text = "docker-archive:" + path.string();
      if (!name.empty()) {
        text += ":" + name + ":" + (tag.empty() ? std::string(k_default_tag) : tag);
      }
      return text;
    }
    case Transport::Registry: {
      std::string text = "docker://" + registry + "/" + name;
      if (!tag.empty()) {
        text += ":" + tag;
      }
      if (!digest.empty()) {
        text += "@" + digest;
      }
      return text;
    }
  }
  return {};
}

Status check_destination(const ImageRef& ref) {
  if (ref.transport == ImageRef::Transport::Registry && !ref.tag.empty() && !ref.digest.empty()) {
    return make_error(ErrorKind::InvalidInput,
                      ref.to_string() + ": a destination takes a tag or a digest, not both");
  }
  return {};
}

bool valid_repository_name(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return false;
  }
  // A first component with '.' or ':' (or "localhost") is a registry host.
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  if (slash != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost")) {
    return valid_registry(first) && valid_repository(name.substr(slash + 1));
  }
  return valid_repository(name);
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !(is_alnum(tag.front()) || tag.front() == '_')) {
    return false;
  }
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

Status check_name_and_tag(std::string_view name, std::string_view tag, const std::string& what) {
  if (!name.empty() && !valid_repository_name(name)) {
    return make_error(ErrorKind::InvalidInput,
                      what + ": image name '" + std::string(name) +
                          "' is not a valid repository name (lowercase letters, digits and "
                          "'.', '_', '-' separators, '/' between components)");
  }
  if (!tag.empty() && !valid_tag(tag)) {
    return make_error(ErrorKind::InvalidInput,
                      what + ": tag '" + std::string(tag) +
                          "' is not a valid tag (letters, digits, '_', '.', '-'; at most 128)");
  }
  return {};
}

}  // namespace distill::oci
