#include "text.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

TEST(Printable, KeepsPrintableUtf8) {
  EXPECT_EQ(Printable("cargo build --release"), "cargo build --release");
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80"),
            "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80");
}

TEST(Printable, EscapesControlCharactersAndBackslash) {
  EXPECT_EQ(Printable("a\nb\tc\rd"), "a\\nb\\tc\\x0dd");
  EXPECT_EQ(Printable("\x1b]0;owned\x07"), "\\e]0;owned\\x07");
  EXPECT_EQ(Printable(std::string_view("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
  EXPECT_EQ(Printable("\xc2\x9b"
                      "31m"),
            "\\x9b31m");  // C1 CSI
  EXPECT_EQ(Printable("C:\\x"), "C:\\\\x");
}

TEST(Printable, EscapesInvalidUtf8BytePerByte) {
  EXPECT_EQ(Printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(Printable("ab\xe2\x9c"), "ab\\xe2\\x9c");       // cut short
}

TEST(Printable, KeepsNewlinesAndTabsWhenAsked) {
  EXPECT_EQ(Printable("line 1\n\tline 2\x1b[2J\n", true), "line 1\n\tline 2\\e[2J\n");
}

TEST(FindControl, NamesTheFirstOffender) {
  EXPECT_EQ(FindControl("fine, even with \xc3\xa9"), std::nullopt);
  EXPECT_EQ(FindControl("a\nb"), "a newline");
  EXPECT_EQ(FindControl("a\rb"), "a carriage return");
  EXPECT_EQ(FindControl("a\tb"), "a tab");
  EXPECT_EQ(FindControl(std::string_view("a\0b", 3)), "a NUL byte");
  EXPECT_EQ(FindControl("\x1b[31m"), "an escape character (ESC)");
  EXPECT_EQ(FindControl("\x7f"), "control character U+007F");
  EXPECT_EQ(FindControl("\xc2\x85"), "control character U+0085");
  EXPECT_EQ(FindControl("ok\xff"), "byte 0xff (not UTF-8)");
}

TEST(TruncateUtf8, CutsOnACharacterBoundary) {
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
  EXPECT_EQ(TruncateUtf8("abcdefghij", 8), "abcde...");
  // "ééééé" is 10 bytes; 8 leaves 5 for text, which would split the third é.
  EXPECT_EQ(TruncateUtf8("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8), "\xc3\xa9\xc3\xa9...");
  EXPECT_EQ(TruncateUtf8("\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80", 6), "...");
}

TEST(TakeLine, TakesOneLineAtATimeTheLastWithoutItsNewline) {
  std::string_view text = "a 1\n\nb 2";
  EXPECT_EQ(TakeLine(text), "a 1");
  EXPECT_EQ(TakeLine(text), "");
  EXPECT_EQ(TakeLine(text), "b 2");
  EXPECT_TRUE(text.empty());
}

}  // namespace
}  // namespace nova
