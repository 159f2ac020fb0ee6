// Local users by name and uid, for deciding whose agent is whose.
#pragma once

#include <pwd.h>

#include <cstdint>
#include <optional>
#include <string>

namespace nova {

// The passwd entry of user `name`, or of `uid` when `name` is null; `buffer`
// holds its strings.
std::optional<passwd> LookupUser(const std::string* name, uint32_t uid, std::string& buffer);

// The name of the user with `uid`; throws PermissionDenied if there is none.
std::string UserNameForUid(uint32_t uid);

}  // namespace nova
