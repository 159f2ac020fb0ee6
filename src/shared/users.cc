#include "users.h"

#include "errors.h"

namespace nova {

std::optional<passwd> LookupUser(const std::string* name, uint32_t uid, std::string& buffer) {
  buffer.resize(16384);
  passwd pw{};
  passwd* result = nullptr;
  int rc = name ? getpwnam_r(name->c_str(), &pw, buffer.data(), buffer.size(), &result)
                : getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &result);
  if (rc != 0 || result == nullptr) return std::nullopt;
  return pw;
}

std::string UserNameForUid(uint32_t uid) {
  std::string buffer;
  auto pw = LookupUser(nullptr, uid, buffer);
  if (!pw) {
    throw Error(ErrorKind::kPermissionDenied,
                "uid " + std::to_string(uid) + " has no user name; agents run as a named user");
  }
  return pw->pw_name;
}

}  // namespace nova
