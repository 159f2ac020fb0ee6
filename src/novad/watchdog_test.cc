// How often the watcher pings systemd's watchdog.
#include "watchdog.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

TEST(Watchdog, PingsFourTimesPerTimeout) {
  EXPECT_EQ(WatchdogPingInterval(std::chrono::seconds(10)), std::chrono::milliseconds(2500));
  EXPECT_EQ(WatchdogPingInterval(std::chrono::seconds(1)), std::chrono::milliseconds(250));
  EXPECT_EQ(WatchdogPingInterval(Usec(2)), std::chrono::milliseconds(1));
}

TEST(Watchdog, DisabledNeverAsksToWake) {
  Watchdog off(std::nullopt);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.PingIfDue(std::chrono::steady_clock::now()),
            std::chrono::steady_clock::time_point::max());
}

TEST(Watchdog, TheNextPingIsAnIntervalAfterTheLast) {
  Watchdog dog(std::chrono::seconds(8));  // not under systemd: sd_notify does nothing
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(dog.PingIfDue(t0), t0 + std::chrono::seconds(2));
  EXPECT_EQ(dog.PingIfDue(t0 + std::chrono::seconds(1)), t0 + std::chrono::seconds(2));
  auto t3 = t0 + std::chrono::seconds(3);
  EXPECT_EQ(dog.PingIfDue(t3), t3 + std::chrono::seconds(2));
}

}  // namespace
}  // namespace nova
