#include "json_output.h"

#include <nlohmann/json.hpp>

namespace nova {

std::string JsonText(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nova
