package dev.rast.eval.report;

import dev.rast.engine.BadInputException;
import dev.rast.engine.files.AtomicFiles;
import dev.rast.engine.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sweep folder of {@code rast eval}: one run folder per setting of the swept parameter (λ or temperature), named
 * after its value, and {@code sweep.json} listing them in order:
 *
 * <pre>
 * SWEEP_DIR/
 *   sweep.json          {"parameter": "lambda", "points": [{"value": 0.0, "lambdas": [0.0], "dir": "lambda-0"}, ...]}
 *   lambda-0/ ...       an ordinary run folder (settings.json, samples.jsonl, report.*)
 *   sweep.md, sweep-report.json, sweep.svg   the sweep's report, written by rast report
 * </pre>
 * A re-run with the same points resumes every run folder where it stopped.
 */
public record Sweep(String parameter, List<Point> points) {
    public static final String FILE = "sweep.json";

    /** One setting: the swept value, every pair's λ at it, and its run folder's name. */
    public record Point(double value, List<Double> lambdas, String dir) {}

    public Sweep {
        if (!parameter.equals("lambda") && !parameter.equals("temperature"))
            throw new IllegalArgumentException("sweep parameter " + parameter);
        points = List.copyOf(points);
    }

    /** The folder name of a point: "lambda-0.25", "temperature-0.6" (several pairs' λs joined by "_"). */
    public static String dirName(String parameter, List<Double> values) {
        List<String> parts = new ArrayList<>();
        for (double v : values) parts.add(number(v));
        return parameter + "-" + String.join("_", parts);
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%s", v);
    }

    public static boolean isSweep(Path dir) { return Files.isRegularFile(dir.resolve(FILE)); }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameter", parameter);
        List<Map<String, Object>> ps = new ArrayList<>();
        for (Point p : points) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("value", p.value());
            r.put("lambdas", p.lambdas());
            r.put("dir", p.dir());
            ps.add(r);
        }
        m.put("points", ps);
        return m;
    }

    /** Writes sweep.json, or checks that an existing one lists the same points (a resumed sweep). */
    public void writeOrCheck(Path dir) {
        Path f = dir.resolve(FILE);
        if (Files.isRegularFile(f)) {
            Sweep was = read(dir);
            if (!was.equals(this))
                throw new BadInputException(f + " lists another sweep (" + was.parameter() + " at " + values(was) + "), not "
                        + parameter + " at " + values(this) + " (use another --out, or the same values to resume)");
            return;
        }
        // Every later run of the sweep is checked against it, as a run folder's settings.json.
        RunDir.write(f, Json.pretty(toJson()), AtomicFiles.Durability.SYNCED);
    }

    private static List<Double> values(Sweep s) { return s.points().stream().map(Point::value).toList(); }

    public static Sweep read(Path dir) {
        Path f = dir.resolve(FILE);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new BadInputException(f + ": not found (is " + dir + " a sweep folder of rast eval?)");
        } catch (IOException e) {
            throw new BadInputException("cannot read " + f + ": " + e.getMessage());
        }
        Map<String, Object> root = Json.parseObject(bytes, f);
        if (!(root.get("parameter") instanceof String parameter) || !(root.get("points") instanceof List<?> list))
            throw new BadInputException(f + ": expected {\"parameter\": \"lambda\"|\"temperature\", \"points\": [...]}");
        if (!parameter.equals("lambda") && !parameter.equals("temperature"))
            throw new BadInputException(f + ": 'parameter' must be lambda or temperature, is " + parameter);
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> p) || !(p.get("value") instanceof Number value)
                    || !(p.get("dir") instanceof String name) || !(p.get("lambdas") instanceof List<?> ls)
                    || !ls.stream().allMatch(x -> x instanceof Number))
                throw new BadInputException(f + ": points[" + i + "] must be {\"value\": number, \"lambdas\": [...], \"dir\": name}");
            points.add(new Point(value.doubleValue(), ls.stream().map(x -> ((Number) x).doubleValue()).toList(), name));
        }
        if (points.isEmpty()) throw new BadInputException(f + ": no points");
        return new Sweep(parameter, points);
    }
}
