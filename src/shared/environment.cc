#include "environment.h"

#include <cctype>

#include "errors.h"
#include "text.h"

namespace nova {

bool IsCoderProcVariable(std::string_view name) { return name.starts_with(kCoderProcPrefix); }

void ValidateEnvironment(const std::vector<std::string>& assignments) {
  for (const auto& assignment : assignments) {
    auto fail = [&](std::string_view why) {
      throw Error(ErrorKind::kInvalidArgument,
                  "--env \"" + Printable(assignment) + "\": " + std::string(why));
    };
    size_t eq = assignment.find('=');
    if (eq == std::string::npos) {
      fail("no '='; use NAME=VALUE");
    }
    std::string_view name(assignment.data(), eq);
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        valid = false;
      }
    }
    if (!valid) {
      fail(
          "bad variable name; use letters, digits and '_', not starting "
          "with a digit");
    }
    if (IsCoderProcVariable(name)) {
      fail(
          "CODER_PROC_* variables configure novad's priority policy and are "
          "never passed to agents; set them in novad's environment file");
    }
    for (char c : assignment) {
      if (c == '\n' || c == '\0') fail("the value contains a newline or NUL");
    }
  }
}

}  // namespace nova
