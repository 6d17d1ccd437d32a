#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace closedloop {
namespace {

TEST(JsonWriterTest, NestedContainersAndCommas) {
  JsonWriter w;
  w.BeginObject()
      .Key("a")
      .Int(-1)
      .Key("b")
      .BeginArray()
      .Uint(1)
      .Bool(true)
      .Null()
      .EndArray()
      .Key("c")
      .BeginObject()
      .EndObject()
      .Key("d")
      .Raw(R"([{"x":1}])")
      .EndObject();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":[1,true,null],"c":{},"d":[{"x":1}]})");
}

TEST(JsonWriterTest, EscapesStrings) {
  JsonWriter w;
  w.String("q\"b\\n\n\t\x01 é");
  EXPECT_EQ(w.str(), "\"q\\\"b\\\\n\\n\\t\\u0001 é\"");
}

TEST(JsonWriterTest, DoublesRoundTripAndNonFiniteIsNull) {
  JsonWriter w;
  w.BeginArray()
      .Double(0.1)
      .Double(1e-7)
      .Double(std::nan(""))
      .Double(std::numeric_limits<double>::infinity());
  w.EndArray();
  EXPECT_EQ(w.str(), "[0.1,1e-07,null,null]");
}

}  // namespace
}  // namespace closedloop
