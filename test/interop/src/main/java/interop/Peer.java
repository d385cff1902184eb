package interop;

import com.alibaba.nacos.api.NacosFactory;
import com.alibaba.nacos.api.PropertyKeyConst;
import com.alibaba.nacos.api.config.ConfigService;
import com.alibaba.nacos.api.config.listener.AbstractListener;
import com.alibaba.nacos.api.naming.NamingService;
import com.alibaba.nacos.api.naming.listener.NamingEvent;
import com.alibaba.nacos.api.naming.pojo.Instance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A Java service beside ours: the official Nacos client, driven one command per stdin line, each
 * answered and each event reported as one JSON line on stdout carrying the wall-clock time it
 * happened ("at", ms), so the test can time a change across both processes.
 *
 * <pre>
 *   register SERVICE PORT [k=v,k=v]   register 127.0.0.1:PORT (ephemeral, over the client's gRPC)
 *   list SERVICE                      the instances as the client reads them (healthy and not)
 *   subscribe SERVICE                 report every change the server pushes as an "instances" event
 *   publish DATAID GROUP CONTENT...   publish a config (the content is the rest of the line)
 *   listen DATAID GROUP               report every change of the config as a "config" event
 * </pre>
 *
 * Usage: java interop.Peer HOST:PORT [USERNAME PASSWORD]; with -Dpeer.naming-only=true no config
 * client is made (the bench counts the requests of a service that only registers and looks up).
 */
public final class Peer {
  private Peer() {}

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty(PropertyKeyConst.SERVER_ADDR, args[0]);
    if (args.length >= 3) {
      props.setProperty(PropertyKeyConst.USERNAME, args[1]);
      props.setProperty(PropertyKeyConst.PASSWORD, args[2]);
    }
    // A stale cache from an earlier run would be pushed to subscribers as if the server sent it.
    props.setProperty(PropertyKeyConst.NAMING_LOAD_CACHE_AT_START, "false");
    NamingService naming = NacosFactory.createNamingService(props);
    ConfigService config = Boolean.getBoolean("peer.naming-only") ? null : NacosFactory.createConfigService(props);
    Out.event("ready", Map.of("naming", naming.getServerStatus(), "config", config == null ? "none" : config.getServerStatus()));

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.trim().split(" ", 4);
      try {
        run(naming, config, w, line);
      } catch (Exception e) {
        Out.event("error", Map.of("command", line, "message", String.valueOf(e)));
      }
    }
    // stdin closed: the test is done with us; leave as a service would on shutdown.
    naming.shutDown();
    if (config != null) config.shutDown();
    System.exit(0);
  }

  private static void run(NamingService naming, ConfigService config, String[] w, String line) throws Exception {
    switch (w[0]) {
      case "register": {
        Instance instance = new Instance();
        instance.setIp("127.0.0.1");
        instance.setPort(Integer.parseInt(w[2]));
        instance.setMetadata(parseMeta(w.length > 3 ? w[3] : ""));
        naming.registerInstance(w[1], instance);
        Out.event("registered", Map.of("service", w[1], "port", instance.getPort()));
        break;
      }
      case "list":
        Out.event("list", Map.of("service", w[1], "instances", hosts(naming.getAllInstances(w[1], false))));
        break;
      case "subscribe": {
        String service = w[1];
        naming.subscribe(service, event -> {
          if (event instanceof NamingEvent) {
            Out.event("instances", Map.of("service", service, "instances", hosts(((NamingEvent) event).getInstances())));
          }
        });
        Out.event("subscribed", Map.of("service", service));
        break;
      }
      case "publish": {
        String content = line.trim().split(" ", 4)[3];
        Out.event("published", Map.of("dataId", w[1], "group", w[2], "ok", config.publishConfig(w[1], w[2], content)));
        break;
      }
      case "listen": {
        String dataId = w[1];
        String group = w[2];
        String initial = config.getConfigAndSignListener(dataId, group, 5000, new AbstractListener() {
          @Override
          public void receiveConfigInfo(String content) {
            Map<String, Object> fields = new LinkedHashMap<>(Map.of("dataId", dataId, "group", group));
            fields.put("content", content);
            Out.event("config", fields);
          }
        });
        Map<String, Object> fields = new LinkedHashMap<>(Map.of("dataId", dataId, "group", group));
        fields.put("content", initial);
        Out.event("listening", fields);
        break;
      }
      default:
        Out.event("error", Map.of("command", line, "message", "unknown command"));
    }
  }

  private static Map<String, String> parseMeta(String spec) {
    Map<String, String> meta = new LinkedHashMap<>();
    for (String pair : spec.split(",")) {
      int eq = pair.indexOf('=');
      if (eq > 0) meta.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return meta;
  }

  private static List<Map<String, Object>> hosts(List<Instance> instances) {
    return instances.stream().map(i -> {
      Map<String, Object> host = new LinkedHashMap<>();
      host.put("ip", i.getIp());
      host.put("port", i.getPort());
      host.put("healthy", i.isHealthy());
      host.put("enabled", i.isEnabled());
      host.put("ephemeral", i.isEphemeral());
      host.put("weight", i.getWeight());
      host.put("metadata", i.getMetadata());
      return host;
    }).toList();
  }
}
