#include "oci/answer_summary.hpp"

#include <nlohmann/json.hpp>

namespace distill::oci {

namespace {

constexpr size_t k_max_summary = 200;

// {"errors":[{"code":"DENIED","message":"..."}]}: "DENIED: ...; ..."
std::string json_errors(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) {
    return {};
  }
  std::string out;
  for (const auto& error : json["errors"]) {
    if (!error.is_object()) {
      continue;
    }
    std::string code = error.value("code", std::string());
    std::string message = error.contains("message") && error["message"].is_string()
                              ? error["message"].get<std::string>()
                              : std::string();
    std::string one = code.empty() ? message : message.empty() ? code : code + ": " + message;
    if (!one.empty()) {
      out += (out.empty() ? "" : "; ") + one;
    }
  }
  return out;
}

// Every run of white space (control characters too) one space; with
// drop_tags, only the text outside <...> tags.
std::string folded_text(std::string_view body, bool drop_tags) {
  std::string out;
  bool in_tag = false;
  bool space = false;
  for (char c : body) {
    if (drop_tags && c == '<') {
      in_tag = true;
      space = true;
      continue;
    }
    if (in_tag) {
      in_tag = c != '>';
      continue;
    }
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      space = true;
      continue;
    }
    if (space && !out.empty()) {
      out += ' ';
    }
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string answer_summary(std::string_view body) {
  std::string text = json_errors(body);
  if (text.empty()) {
    text = folded_text(body.substr(0, 4096), /*drop_tags=*/true);
  } else {
    text = folded_text(text, /*drop_tags=*/false);  // a message may hold new lines too
  }
  if (text.size() > k_max_summary) {
    text.resize(k_max_summary);
    text += "...";
  }
  return text;
}

}  // namespace distill::oci
