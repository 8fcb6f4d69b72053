#include "image/output_template.hpp"

#include <array>
#include <string_view>

namespace distill::image {

namespace {

constexpr std::array<std::string_view, 4> k_fields = {"name", "variant", "tag", "debian"};

// Calls fn(field) for each placeholder; an error for a malformed one.
template <typename Fn>
Status for_each_placeholder(const std::string& reference, Fn&& fn) {
  size_t pos = 0;
  while ((pos = reference.find_first_of("{}", pos)) != std::string::npos) {
    if (reference[pos] == '}') {
      return make_error(
          ErrorKind::InvalidInput,
          "usage: -o '" + reference + "': '}' without '{' at offset " + std::to_string(pos));
    }
    size_t close = reference.find('}', pos);
    if (close == std::string::npos) {
      return make_error(
          ErrorKind::InvalidInput,
          "usage: -o '" + reference + "': unclosed placeholder '" + reference.substr(pos) + "'");
    }
    std::string field = reference.substr(pos + 1, close - pos - 1);
    bool known = false;
    for (auto f : k_fields) {
      known = known || field == f;
    }
    if (!known) {
      return make_error(ErrorKind::InvalidInput,
                        "usage: -o '" + reference + "': unknown placeholder {" + field +
                            "} (known: {name}, {variant}, {tag}, {debian})");
    }
    fn(pos, close, field);
    pos = close + 1;
  }
  return {};
}

}  // namespace

Status check_output_template(const std::string& reference) {
  return for_each_placeholder(reference, [](size_t, size_t, const std::string&) {});
}

bool has_placeholders(const std::string& reference) {
  return reference.find('{') != std::string::npos;
}

std::string expand_output(const std::string& reference, const OutputFields& fields) {
  std::string out;
  size_t last = 0;
  (void)for_each_placeholder(reference, [&](size_t open, size_t close, const std::string& field) {
    out += reference.substr(last, open - last);
    out += field == "name"      ? fields.name
           : field == "variant" ? fields.variant
           : field == "tag"     ? fields.tag
                                : fields.debian;
    last = close + 1;
  });
  out += reference.substr(last);
  return out;
}

}  // namespace distill::image
