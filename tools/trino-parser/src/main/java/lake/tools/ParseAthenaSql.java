package lake.tools;

import io.trino.sql.parser.ParsingException;
import io.trino.sql.parser.SqlParser;
import io.trino.sql.tree.Statement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Parses every DML statement of sql/athena/ with Trino's parser and exits non-zero if one fails.
 * Files named hive_*.sql are Hive DDL, which Athena runs on its Hive engine, not Trino: they are
 * listed as skipped. {{identifier}} placeholders become the identifier's name; [[location]]
 * placeholders sit inside string literals already, so the text parses as it stands.
 * Output: one line per file, then "N passed, M failed".
 */
public final class ParseAthenaSql {
    private static final Pattern IDENTIFIER = Pattern.compile("\\{\\{(\\w+)}}");

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ParseAthenaSql <sql/athena folder>");
            System.exit(2);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(args[0]))) {
            files = s.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
        }
        SqlParser parser = new SqlParser();
        int passed = 0;
        int failed = 0;
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.startsWith("hive_")) {
                System.out.println("SKIP " + name + ": Hive DDL (Athena's Hive engine)");
                continue;
            }
            String sql = prepare(Files.readString(file, StandardCharsets.UTF_8));
            try {
                Statement statement = parser.createStatement(sql);
                System.out.println("OK   " + name + ": " + statement.getClass().getSimpleName());
                passed++;
            } catch (ParsingException e) {
                System.out.println("FAIL " + name + ": line " + e.getLineNumber() + ":" + e.getColumnNumber() + ": " + e.getErrorMessage());
                failed++;
            } catch (RuntimeException e) {
                System.out.println("FAIL " + name + ": " + e);
                failed++;
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    /** Placeholders to names; a trailing semicolon removed (Trino's parser takes one statement without it). */
    static String prepare(String text) {
        Matcher m = IDENTIFIER.matcher(text);
        String sql = m.replaceAll(r -> r.group(1));
        // <<dialect>> placeholders hold engine-specific table properties; Trino's text is empty.
        sql = sql.replaceAll("<<\\w+>>", "");
        sql = sql.strip();
        if (sql.endsWith(";")) sql = sql.substring(0, sql.length() - 1);
        return sql;
    }
}
