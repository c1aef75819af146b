import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A pgjdbc client for the genesis Postgres endpoint, run by tests/server/pgwire/test_pgjdbc.py as
 * {@code java -cp /usr/share/java/postgresql.jar Client.java URL USER PASSWORD MODEL}.
 * Prints one "key=value" line per fact the test checks.
 */
public class Client {
    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1], password = args[2], model = args[3];
        try (Connection con = DriverManager.getConnection(url, user, password)) {
            DatabaseMetaData meta = con.getMetaData();
            System.out.println("product=" + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());
            try (ResultSet tables = meta.getTables(null, "synthetic", "%", new String[] {"VIEW"})) {
                while (tables.next()) {
                    System.out.println("view=" + tables.getString("TABLE_SCHEM") + "." + tables.getString("TABLE_NAME")
                            + " " + tables.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet tables = meta.getTables(null, null, "%", new String[] {"TABLE"})) {
                while (tables.next()) {
                    System.out.println("table=" + tables.getString("TABLE_SCHEM") + "." + tables.getString("TABLE_NAME"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, "synthetic", model, "%")) {
                while (columns.next()) {
                    System.out.println("column=" + columns.getString("COLUMN_NAME") + " " + columns.getString("TYPE_NAME")
                            + " " + columns.getInt("DATA_TYPE"));
                }
            }
            String sql = "SELECT age, state, sex, stateur, ui FROM synthetic." + model + " WHERE age > ? AND sex = ?";
            for (int round = 0; round < 6; round++) {  // past prepareThreshold (5): server-prepared, binary results
                try (PreparedStatement ps = con.prepareStatement(sql)) {
                    ps.setInt(1, 50);
                    ps.setString(2, "female");
                    int rows = 0, matching = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows++;
                            int age = rs.getInt("age");
                            long state = rs.getLong("state");
                            double stateur = rs.getDouble("stateur");
                            boolean ui = rs.getBoolean("ui");
                            if (age > 50 && "female".equals(rs.getString("sex")) && state > 0 && stateur >= 0) {
                                matching++;
                            }
                        }
                    }
                    System.out.println("prepared=" + rows + " " + matching);
                }
            }
            try (Statement st = con.createStatement();
                 ResultSet rs = st.executeQuery("SELECT 42::INTEGER AS i, 2.5::DOUBLE AS d, 'x' AS s, true AS b, "
                         + "DATE '2024-02-29' AS day, TIMESTAMP '2024-02-29 12:34:56' AS ts, 12.50::DECIMAL(10,2) AS n")) {
                rs.next();
                System.out.println("typed=" + rs.getInt("i") + " " + rs.getDouble("d") + " " + rs.getString("s") + " "
                        + rs.getBoolean("b") + " " + rs.getDate("day") + " " + rs.getTimestamp("ts") + " "
                        + rs.getBigDecimal("n"));
            }
            try (Statement st = con.createStatement()) {
                st.executeQuery("SELECT * FROM synthetic." + model + " WHERE age > 500");
                System.out.println("error=none");
            } catch (SQLException e) {
                System.out.println("error=" + e.getSQLState());
            }
        }
    }
}
