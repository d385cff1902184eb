package interop;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** One JSON line per event on stdout; listeners call from the client's threads, hence synchronized. */
final class Out {
  private Out() {}

  static synchronized void event(String name, Map<String, ?> fields) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("event", name);
    line.put("at", System.currentTimeMillis());
    line.putAll(fields);
    StringBuilder sb = new StringBuilder();
    json(sb, line);
    System.out.println(sb);
    System.out.flush();
  }

  private static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map<?, ?> map) {
      sb.append('{');
      String sep = "";
      for (Map.Entry<?, ?> e : map.entrySet()) {
        sb.append(sep);
        string(sb, String.valueOf(e.getKey()));
        sb.append(':');
        json(sb, e.getValue());
        sep = ",";
      }
      sb.append('}');
    } else if (v instanceof Collection<?> list) {
      sb.append('[');
      String sep = "";
      for (Object item : list) {
        sb.append(sep);
        json(sb, item);
        sep = ",";
      }
      sb.append(']');
    } else {
      string(sb, v.toString());
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append('"');
  }
}
