#include "watch_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nova {
namespace {

// Anyone can log MESSAGE_ID=kWatchMessageId with made-up fields; the events
// are read only from entries whose sender journald itself vouches for.
TEST(WatchEventMatches, OnlyNovadsOwnEntries) {
  EXPECT_THAT(WatchEventMatches(),
              testing::UnorderedElementsAre(std::string("MESSAGE_ID=") + kWatchMessageId, "_UID=0",
                                            "_SYSTEMD_UNIT=novad.service"));
}

}  // namespace
}  // namespace nova
