// nlohmann-json adapter for the oci layer (see json_util.hpp).
#include "oci/json_util.hpp"

namespace distill::oci::detail {

Error corrupt(const std::string& where, const std::string& why) {
  return make_error(ErrorKind::Corrupt, where + ": " + why);
}

Result<nlohmann::json> parse_object(std::string_view text, const std::string& origin) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return corrupt(origin, "not valid JSON");
  }
  if (!json.is_object()) {
    return corrupt(origin, "expected a JSON object");
  }
  return json;
}

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> get_string(const nlohmann::json& object, const char* key,
                               const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return corrupt(where, std::string("\"") + key + "\" must be a string");
  }
  return it->get<std::string>();
}

Result<std::optional<std::vector<std::string>>> get_string_array(const nlohmann::json& object,
                                                                 const char* key,
                                                                 const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return std::optional<std::vector<std::string>>();
  }
  if (!it->is_array()) {
    return corrupt(where, std::string("\"") + key + "\" must be an array of strings");
  }
  std::vector<std::string> values;
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return corrupt(where, std::string("\"") + key + "\" must be an array of strings");
    }
    values.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(values));
}

Result<std::map<std::string, std::string>> get_string_map(const nlohmann::json& object,
                                                          const char* key,
                                                          const std::string& where) {
  std::map<std::string, std::string> values;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return values;
  }
  if (!it->is_object()) {
    return corrupt(where, std::string("\"") + key + "\" must be an object of strings");
  }
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return corrupt(where, std::string("\"") + key + "." + name + "\" must be a string");
    }
    values.emplace(name, value.get<std::string>());
  }
  return values;
}

Result<std::vector<std::string>> get_key_set(const nlohmann::json& object, const char* key,
                                             const std::string& where) {
  std::vector<std::string> keys;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return keys;
  }
  if (!it->is_object()) {
    return corrupt(where, std::string("\"") + key + "\" must be an object");
  }
  for (const auto& item : it->items()) {
    keys.push_back(item.key());
  }
  return keys;
}

}  // namespace distill::oci::detail
