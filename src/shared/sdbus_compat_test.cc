#include "sdbus_compat.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace nova::sdbus_compat {
namespace {

TEST(SdbusCompat, TypeSignatureSpellsDbusTypes) {
  EXPECT_EQ(TypeSignature<std::string>(), "s");
  EXPECT_EQ(TypeSignature<uint64_t>(), "t");
  EXPECT_EQ(TypeSignature<std::vector<std::string>>(), "as");
  EXPECT_EQ((TypeSignature<std::map<std::string, std::vector<uint8_t>>>()), "a{say}");
  EXPECT_EQ((TypeSignature<std::map<std::string, sdbus::Variant>>()), "a{sv}");
}

TEST(SdbusCompat, MakeErrorKeepsNameAndMessage) {
  sdbus::Error e = MakeError("org.nova.Nova1.Error.Failed", "it broke");
  EXPECT_EQ(e.getName(), "org.nova.Nova1.Error.Failed");
  EXPECT_EQ(e.getMessage(), "it broke");
}

TEST(SdbusCompat, NamesConvertFromPlainStrings) {
  EXPECT_EQ(std::string(ServiceName("org.nova.Nova1")), "org.nova.Nova1");
  EXPECT_EQ(std::string(ObjectPath(std::string("/org/nova/Nova1"))), "/org/nova/Nova1");
}

TEST(SdbusCompat, PollsTheBusFdAndOnVersion2TheEventFd) {
  sdbus::IConnection::PollData data{};
  data.fd = 7;
  data.events = POLLIN | POLLOUT;
#if NOVA_SDBUS_CPP_MAJOR >= 2
  data.eventFd = 9;
#endif
  BusPollFds fds = PollFds(data);
  ASSERT_EQ(fds.size(), kMajor >= 2 ? 2u : 1u);
  EXPECT_EQ(fds[0].fd, 7);
  EXPECT_EQ(fds[0].events, POLLIN | POLLOUT);
  if (kMajor >= 2) {
    EXPECT_EQ(fds.back().fd, 9);
    EXPECT_EQ(fds.back().events, POLLIN);
  }
}

}  // namespace
}  // namespace nova::sdbus_compat
