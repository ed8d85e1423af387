package dev.rast.cli;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import dev.rast.text.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Turn text into token ids.", "Reads UTF-8 text on standard input and prints token ids (a JSON array), as Hugging Face",
                "tokenizer.encode(text, add_special_tokens=False) does."},
        footer = {"", "Examples:",
                "  echo -n 'Hello, world' | rast tokenize --tokenizer models/Qwen2.5-7B",
                "  printf '%%s\\n' '\"first\"' '\"second\"' | rast tokenize --tokenizer DIR --jsonl",
                "  rast tokenize --tokenizer DIR --bench < corpus.txt      # encode speed in MB/s"})
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, paramLabel = "DIR", description = "Where tokenizer.json is (a model folder works)." + ModelFolders.HELP)
    Path dir;

    @Option(names = "--jsonl", description = "Read one JSON string per line; print one JSON array of ids per line.")
    boolean jsonl;

    @Option(names = "--add-special-tokens", description = "Add what the tokenizer's post-processor adds (BOS for Llama 3).")
    boolean addSpecial;

    @Option(names = "--bench", description = "Encode the whole input repeatedly for about --seconds and print MB/s instead of ids.")
    boolean bench;

    @Option(names = "--seconds", defaultValue = "3", paramLabel = "S", description = "Length of --bench (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Override
    public Integer call() {
        if (bench && !(seconds > 0)) throw new BadInputException("--seconds must be more than 0, is " + seconds);
        long t0 = System.nanoTime();
        Tokenizer tok = Tokenizer.load(ModelFolders.tokenizer(dir));
        long loadNanos = System.nanoTime() - t0;
        String input = Stdin.readAll(System.in);
        PrintStream out = Stdout.utf8();
        if (bench) {
            out.printf("load: %s in %.0f ms (%d ids)%n", dir, loadNanos / 1e6, tok.size());
            bench(tok, input, out);
        } else if (jsonl) {
            String[] lines = input.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) continue;
                if (!(Json.parseLine(lines[i], "standard input", i + 1) instanceof String s))
                    throw new BadInputException("standard input line " + (i + 1) + ": not a JSON string");
                out.println(array(tok.encode(s, addSpecial)));
            }
        } else {
            out.println(array(tok.encode(input, addSpecial)));
        }
        out.flush();
        return 0;
    }

    /** Encodes line by line (as a benchmark corpus is a list of texts), warm-up first, then timed rounds. */
    private void bench(Tokenizer tok, String input, PrintStream out) {
        if (input.isEmpty()) throw new BadInputException("--bench: standard input is empty (give it a corpus to encode)");
        String[] texts = input.split("\n");
        long bytes = input.getBytes(StandardCharsets.UTF_8).length;
        long tokens = 0;
        for (String t : texts) tokens += tok.encode(t).length;
        long t0 = System.nanoTime(), rounds = 0;
        while (System.nanoTime() - t0 < seconds * 1e9) {
            for (String t : texts) tok.encode(t);
            rounds++;
        }
        double s = (System.nanoTime() - t0) / 1e9;
        out.printf("encode: %d texts, %.2f MB, %d tokens per round; %d rounds in %.2f s: %.2f MB/s, %.0f tokens/s%n",
                texts.length, bytes / 1e6, tokens, rounds, s, rounds * bytes / 1e6 / s, rounds * tokens / s);
    }

    static String array(int[] ids) {
        return Json.write(Json.Layout.LINE, g -> g.writeArray(ids, 0, ids.length));
    }
}
