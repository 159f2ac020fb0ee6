// The one place where sdbus-c++ 1.x (Debian 12: 1.2) and 2.x (Debian 13: 2.1)
// differ for Nova. Everything else uses these names and stays free of version
// checks. CMake defines NOVA_SDBUS_CPP_MAJOR from the sdbus-c++ package it
// found (see CMakeLists.txt).
//
// What 2.x changed, and how it is bridged here:
//   - bus names, object paths and error names are strong types with explicit
//     constructors: ServiceName, ObjectPath, MakeError;
//   - processPendingRequest() is now processPendingEvent(): ProcessPending;
//   - getCurrentlyProcessedMessage() returns a Message, not a pointer:
//     CurrentSender;
//   - signature_of<T>::str() is gone (a constexpr char array instead):
//     TypeSignature<T>;
//   - PollData carries an eventFd that an external event loop must poll for
//     POLLIN besides fd: BusPollFds;
//   - addMatch(rule, handler) returns no slot unless asked (return_slot), and
//     the handler takes the Message by value: AddMatch.
#pragma once

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#ifndef NOVA_SDBUS_CPP_MAJOR
#error "NOVA_SDBUS_CPP_MAJOR is not defined: build with CMake (it defines it from sdbus-c++)"
#elif NOVA_SDBUS_CPP_MAJOR != 1 && NOVA_SDBUS_CPP_MAJOR != 2
#error "sdbus-c++ major version not supported: Nova builds with 1.x or 2.x"
#elif (NOVA_SDBUS_CPP_MAJOR == 2) != __has_include(<sdbus-c++/VTableItems.h>)
#error "the sdbus-c++ headers found are not the version CMake found (NOVA_SDBUS_CPP_MAJOR)"
#endif

namespace nova::sdbus_compat {

inline constexpr int kMajor = NOVA_SDBUS_CPP_MAJOR;

// A well-known bus name, an object path: what createProxy, ProxyInterfaces,
// AdaptorInterfaces and requestName take. Construct them explicitly,
// ServiceName(kBusName), which both versions accept.
#if NOVA_SDBUS_CPP_MAJOR >= 2
using ServiceName = sdbus::ServiceName;
#else
using ServiceName = std::string;
#endif
using ObjectPath = sdbus::ObjectPath;

// An sdbus::Error to throw back to a caller: NAME is a D-Bus error name.
inline sdbus::Error MakeError(const std::string& name, const std::string& message) {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  return sdbus::Error(sdbus::Error::Name(name), message);
#else
  return sdbus::Error(name, message);
#endif
}

// Processes one pending incoming or outgoing message; false when none was
// pending (then poll BusPollFds before calling again).
inline bool ProcessPending(sdbus::IConnection& connection) {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  return connection.processPendingEvent();
#else
  return connection.processPendingRequest();
#endif
}

// The unique bus name that sent the method call being handled (call only
// from inside a handler); empty on a direct connection, which has no bus.
inline std::string CurrentSender(const sdbus::IObject& object) {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  const char* sender = object.getCurrentlyProcessedMessage().getSender();
  return sender != nullptr ? sender : "";
#else
  return object.getCurrentlyProcessedMessage()->getSender();
#endif
}

// The D-Bus type signature of T, e.g. "a{sv}".
template <typename T>
std::string TypeSignature() {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  constexpr auto signature = sdbus::signature_of_v<T>;
  return std::string(signature.begin(), signature.end());
#else
  return sdbus::signature_of<T>::str();
#endif
}

// What an external event loop polls for a connection, from its
// getEventLoopPollData() (the timeout comes from getPollTimeout() on both):
// the bus fd for PollData::events and, on 2.x, the event fd for POLLIN, which
// sdbus-c++ signals when messages wait in its queues (after a synchronous
// call, say). ProcessPending until it returns false clears the event fd.
inline constexpr std::size_t kBusPollFdCount = NOVA_SDBUS_CPP_MAJOR >= 2 ? 2 : 1;
using BusPollFds = std::array<pollfd, kBusPollFdCount>;
inline BusPollFds PollFds(const sdbus::IConnection::PollData& data) {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  return {{{data.fd, data.events, 0}, {data.eventFd, POLLIN, 0}}};
#else
  return {{{data.fd, data.events, 0}}};
#endif
}

// Calls HANDLER with each message matching RULE for as long as the returned
// slot lives (the rule is added before this returns). HANDLER takes the
// message as `auto&&`: a reference in 1.x, a value in 2.x.
template <typename Handler>
[[nodiscard]] sdbus::Slot AddMatch(sdbus::IConnection& connection, const std::string& rule,
                                   Handler&& handler) {
#if NOVA_SDBUS_CPP_MAJOR >= 2
  return connection.addMatch(rule, std::forward<Handler>(handler), sdbus::return_slot);
#else
  return connection.addMatch(rule, std::forward<Handler>(handler));
#endif
}

}  // namespace nova::sdbus_compat
