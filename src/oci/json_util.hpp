// Internal helpers for reading and writing JSON documents with nlohmann-json:
// exceptions are turned into Result errors, output is compact and deterministic.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace distill::oci::detail {

// Parses a JSON object; Corrupt "<origin>: <why>" if it is not one.
Result<nlohmann::json> parse_object(std::string_view text, const std::string& origin);

// Compact dump with sorted keys; invalid UTF-8 is replaced, never thrown.
std::string dump(const nlohmann::json& json);

Error corrupt(const std::string& where, const std::string& why);

// Typed field readers. A missing key gives the default (or nullopt); a present key
// of the wrong type is Corrupt naming `where` and the key.
Result<std::string> get_string(const nlohmann::json& object, const char* key,
                               const std::string& where);
Result<std::optional<std::vector<std::string>>> get_string_array(const nlohmann::json& object,
                                                                 const char* key,
                                                                 const std::string& where);
Result<std::map<std::string, std::string>> get_string_map(const nlohmann::json& object,
                                                          const char* key,
                                                          const std::string& where);
// Keys of an object of (usually empty) objects, e.g. ExposedPorts / Volumes.
Result<std::vector<std::string>> get_key_set(const nlohmann::json& object, const char* key,
                                             const std::string& where);

}  // namespace distill::oci::detail
