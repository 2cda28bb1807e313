// Unit tests: workq::lfstack and lfnode (single thread).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "workq/lfstack.hpp"

namespace {

using workq::lfnode;
using workq::lfstack;

struct item : lfnode {
  int value = 0;
};

TEST(LfStack, BitBudget) {
  static_assert(lfstack::addr_bits == 48);
  static_assert(lfstack::align_bits == 3);
  static_assert(lfstack::tag_bits == 19);
  static_assert(lfstack::tag_mask == (std::uint64_t{1} << 19) - 1);
  static_assert(sizeof(lfnode) == 16);
  SUCCEED();
}

TEST(LfStack, NewStackIsEmpty) {
  lfstack s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.empty(std::memory_order_seq_cst));
  EXPECT_EQ(s.pop(), nullptr);
}

TEST(LfStack, PushPopLifoOrder) {
  lfstack s;
  std::vector<item> items(5);
  for (int i = 0; i < 5; ++i) {
    items[i].value = i;
    s.push(&items[i]);
    EXPECT_FALSE(s.empty());
  }
  for (int i = 4; i >= 0; --i) {
    lfnode* n = s.pop();
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n, &items[i]);
    EXPECT_EQ(static_cast<item*>(n)->value, i);
  }
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.pop(), nullptr);
}

TEST(LfStack, InterleavedPushPop) {
  lfstack s;
  item a, b, c;
  s.push(&a);
  s.push(&b);
  EXPECT_EQ(s.pop(), &b);
  s.push(&c);
  s.push(&b);
  EXPECT_EQ(s.pop(), &b);
  EXPECT_EQ(s.pop(), &c);
  EXPECT_EQ(s.pop(), &a);
  EXPECT_EQ(s.pop(), nullptr);
}

TEST(LfStack, PushBumpsTheNodeTag) {
  lfstack s;
  item a;
  EXPECT_EQ(a.pushcnt.load(), 0u);
  for (std::uint64_t k = 1; k <= 5; ++k) {
    s.push(&a);
    EXPECT_EQ(a.pushcnt.load(), k);
    EXPECT_EQ(s.pop(), &a);
  }
}

TEST(LfStack, NodeMovesBetweenStacks) {
  lfstack s1, s2;
  item a, b;
  s1.push(&a);
  s1.push(&b);
  lfnode* n = s1.pop();
  s2.push(n);
  EXPECT_EQ(s2.pop(), &b);
  EXPECT_EQ(s1.pop(), &a);
  EXPECT_TRUE(s1.empty());
  EXPECT_TRUE(s2.empty());
}

TEST(LfStack, PackUnpackRoundTripsWithEveryTag) {
  item a;
  for (std::uint64_t cnt : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{12345},
                            lfstack::tag_mask, lfstack::tag_mask + 1, ~std::uint64_t{0}})
    EXPECT_EQ(lfstack::unpack(lfstack::pack(&a, cnt)), &a) << cnt;
}

TEST(LfStack, TagDistinguishesHeadsOfTheSameNode) {
  item a;
  EXPECT_NE(lfstack::pack(&a, 1), lfstack::pack(&a, 2));
  EXPECT_NE(lfstack::pack(&a, 0), lfstack::pack(&a, lfstack::tag_mask));
  // The tag is the push count modulo 2^tag_bits.
  EXPECT_EQ(lfstack::pack(&a, lfstack::tag_mask + 1), lfstack::pack(&a, 0));
  EXPECT_EQ(lfstack::pack(&a, 7) & lfstack::tag_mask, 7u);
  EXPECT_NE(lfstack::pack(&a, 0), 0u);  // a non-null node never packs to "empty"
}

TEST(LfStack, ValidNode) {
  item a;
  EXPECT_TRUE(lfstack::valid_node(&a));
  EXPECT_FALSE(lfstack::valid_node(nullptr));
  const auto base = reinterpret_cast<std::uintptr_t>(&a);
  EXPECT_FALSE(lfstack::valid_node(reinterpret_cast<const lfnode*>(base + 4)));  // misaligned
  EXPECT_FALSE(lfstack::valid_node(reinterpret_cast<const lfnode*>(base + 1)));
  EXPECT_FALSE(
      lfstack::valid_node(reinterpret_cast<const lfnode*>(std::uintptr_t{1} << 48)));  // >48 bits
  EXPECT_FALSE(lfstack::valid_node(reinterpret_cast<const lfnode*>(std::uintptr_t{1} << 56)));
  EXPECT_TRUE(lfstack::valid_node(reinterpret_cast<const lfnode*>((std::uintptr_t{1} << 47) - 8)));
  lfstack::validate(&a);  // must not die
}

using LfStackDeathTest = ::testing::Test;

TEST_F(LfStackDeathTest, ValidateRejectsMisalignedNode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  item a;
  const auto* bad = reinterpret_cast<const lfnode*>(reinterpret_cast<std::uintptr_t>(&a) + 4);
  EXPECT_DEATH(lfstack::validate(bad), "lfstack: node address");
}

TEST_F(LfStackDeathTest, ValidateRejectsHighAddress) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto* bad = reinterpret_cast<const lfnode*>(std::uintptr_t{0x00ff'0000'0000'0000});
  EXPECT_DEATH(lfstack::validate(bad), "outside the 48-bit range");
}

TEST_F(LfStackDeathTest, ValidateRejectsNull) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(lfstack::validate(nullptr), "lfstack: node address");
}

}  // namespace
