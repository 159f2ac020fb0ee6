#include "json_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nova {
namespace {

TEST(JsonText, KeepsValidTextExactlyAndEscapesControls) {
  nlohmann::json j = {{"command", {"/bin/echo", "caf\xc3\xa9", "\x1b[2J\n"}}};
  EXPECT_EQ(JsonText(j), "{\"command\":[\"/bin/echo\",\"caf\xc3\xa9\",\"\\u001b[2J\\n\"]}");
  EXPECT_EQ(nlohmann::json::parse(JsonText(j, 2)), j);
}

TEST(JsonText, ReplacesInvalidUtf8InsteadOfThrowing) {
  nlohmann::json j = {{"workdir", "/w/\xff\xfe"}};
  EXPECT_THROW(j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(JsonText(j), "{\"workdir\":\"/w/\xef\xbf\xbd\xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace nova
