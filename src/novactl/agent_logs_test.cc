#include "agent_logs.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "errors.h"

namespace nova {
namespace {

TEST(PrintableLines, EscapesControlCodesAndKeepsNewlinesAndTabs) {
  PrintableLines lines;
  EXPECT_EQ(lines.Feed("building\n\x1b]0;owned\x07\x1b[2J\tdone\r\n"),
            "building\n\\e]0;owned\\x07\\e[2J\tdone\\x0d\n");
  EXPECT_EQ(lines.Finish(), "");
}

TEST(PrintableLines, HoldsBackALineUntilItIsComplete) {
  PrintableLines lines;
  EXPECT_EQ(lines.Feed("one\ntw"), "one\n");
  EXPECT_EQ(lines.Feed("o\x1b"), "");
  EXPECT_EQ(lines.Feed("[31m\nthr"), "two\\e[31m\n");
  EXPECT_EQ(lines.Finish(), "thr");
  EXPECT_EQ(lines.Finish(), "");
}

TEST(PrintableLines, AUtf8SequenceSplitAcrossChunksStaysOneCharacter) {
  PrintableLines lines;
  EXPECT_EQ(lines.Feed("caf\xc3"), "");
  EXPECT_EQ(lines.Feed("\xa9\n\xf0\x9f"), "caf\xc3\xa9\n");
  EXPECT_EQ(lines.Feed("\x9a\x80\n"), "\xf0\x9f\x9a\x80\n");
  // Cut short for good: the bytes are not UTF-8, and shown as such.
  EXPECT_EQ(lines.Feed("ab\xe2\x9c"), "");
  EXPECT_EQ(lines.Finish(), "ab\\xe2\\x9c");
}

TEST(PrintableLines, PassesOnAnEndlessLineInPiecesBetweenCharacters) {
  PrintableLines lines;
  std::string long_line(PrintableLines::kMaxHeldBack, 'x');
  EXPECT_EQ(lines.Feed(long_line), "");
  // One byte more, and the start of an é that must wait for its second byte.
  EXPECT_EQ(lines.Feed("y\xc3"), long_line + "y");
  EXPECT_EQ(lines.Feed("\xa9\n"), "\xc3\xa9\n");
}

// A file the test reads back what RunPrintable wrote.
class Output {
 public:
  Output() : file_(std::tmpfile()) {}
  ~Output() { std::fclose(file_); }
  int fd() const { return fileno(file_); }
  std::string Text() const {
    std::string text(4096, '\0');
    ssize_t n = pread(fd(), text.data(), text.size(), 0);
    text.resize(n > 0 ? n : 0);
    return text;
  }

 private:
  FILE* file_;
};

TEST(RunPrintable, CopiesTheOutputEscapedAndReturnsTheExitStatus) {
  Output out;
  int status = RunPrintable({"sh", "-c", "printf 'a\\033[2Jb\\nlast'; exit 3"}, out.fd());
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out.Text(), "a\\e[2Jb\nlast");
}

TEST(RunPrintable, ReportsAKillingSignal) {
  Output out;
  EXPECT_EQ(RunPrintable({"sh", "-c", "kill -KILL $$"}, out.fd()), 128 + SIGKILL);
}

TEST(RunPrintable, ACommandThatCannotRunIsUnavailable) {
  Output out;
  try {
    RunPrintable({"/nonexistent/journalctl"}, out.fd());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
    EXPECT_STREQ(e.what(), "cannot run /nonexistent/journalctl: No such file or directory");
  }
}

TEST(RunPrintable, StopsTheCommandWhenTheReaderGoesAway) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPrintable({"sh", "-c", "while :; do echo y; done"}, fds[1]), 128 + SIGPIPE);
  close(fds[1]);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(RunPrintable, StopsTheCommandOnSigterm) {
  // Blocked before the thread starts, so that only RunPrintable's signalfd
  // sees the signal; RunPrintable restores this mask when it returns.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  std::thread sender([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kill(getpid(), SIGTERM);
  });
  Output out;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunPrintable({"sleep", "30"}, out.fd()), 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  sender.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace
}  // namespace nova
