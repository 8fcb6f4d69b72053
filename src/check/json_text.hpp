// json_text: a file name (any bytes but NUL) as a JSON string value. JSON
// strings are UTF-8, and image layers may hold names that are not: each byte
// that is not part of a valid UTF-8 sequence becomes the four characters
// "\xNN" (as `ls -b` shows it), so the report stays valid JSON and still says
// which byte it was. Valid UTF-8 passes unchanged.
#pragma once

#include <string>
#include <string_view>

namespace distill::check {

std::string json_text(std::string_view bytes);

}  // namespace distill::check
