#include "systemd.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

TEST(UnitObjectPath, EncodesLikeSdBus) {
  EXPECT_EQ(UnitObjectPath("nova-agent-a_1.service"),
            "/org/freedesktop/systemd1/unit/nova_2dagent_2da_5f1_2eservice");
  EXPECT_EQ(UnitObjectPath("novad.service"), "/org/freedesktop/systemd1/unit/novad_2eservice");
}

}  // namespace
}  // namespace nova
