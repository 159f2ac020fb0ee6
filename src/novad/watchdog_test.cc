// How often the watcher pings systemd's watchdog.
#include "watchdog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

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

// A socket of the test's own where systemd's would be: bound at ADDRESS
// (a path, or an abstract name after "@").
int ListenAt(const std::string& address) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, address.data(), address.size());
  socklen_t length = offsetof(sockaddr_un, sun_path) + address.size();
  if (address[0] == '@') {
    a.sun_path[0] = '\0';
  } else {
    ++length;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string Received(int fd) {
  char buffer[64];
  ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

TEST(Watchdog, PingsGoToTheNotifySocket) {
  std::string path = testing::TempDir() + "/watchdog-notify.sock";
  std::filesystem::remove(path);
  std::string abstract = "@nova-watchdog-test-" + std::to_string(::getpid());
  for (const std::string& address : {path, abstract}) {
    int listener = ListenAt(address);
    ASSERT_GE(listener, 0) << address;
    auto notify = NotifySocket::Open(address);
    ASSERT_TRUE(notify) << address;
    Watchdog dog(std::chrono::seconds(8), notify);
    auto t0 = std::chrono::steady_clock::now();
    dog.PingIfDue(t0);
    EXPECT_EQ(Received(listener), "WATCHDOG=1") << address;
    dog.PingIfDue(t0 + std::chrono::seconds(1));  // not due
    EXPECT_EQ(Received(listener), "") << address;
    dog.PingIfDue(t0 + std::chrono::seconds(2));
    EXPECT_EQ(Received(listener), "WATCHDOG=1") << address;
    ::close(listener);
  }
  std::filesystem::remove(path);
}

TEST(Watchdog, OnlyAPathOrAnAbstractNameIsANotifySocket) {
  EXPECT_FALSE(NotifySocket::Open(""));
  EXPECT_FALSE(NotifySocket::Open("@"));
  EXPECT_FALSE(NotifySocket::Open("vsock:2:1234"));
  EXPECT_FALSE(NotifySocket::Open("relative/path"));
  EXPECT_FALSE(NotifySocket::Open("/" + std::string(107, 'x')));  // no room for its NUL
  EXPECT_TRUE(NotifySocket::Open("/" + std::string(106, 'x')));
  EXPECT_TRUE(NotifySocket::Open("/run/systemd/notify"));
}

}  // namespace
}  // namespace nova
