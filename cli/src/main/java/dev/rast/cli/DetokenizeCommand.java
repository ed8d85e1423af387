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

@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = {"Turn token ids back into text.", "Reads ids on standard input (a JSON array, or ids separated by commas or spaces) and prints the text."},
        footer = {"", "Examples:",
                "  echo '[9707, 11, 1879]' | rast detokenize --tokenizer models/Qwen2.5-7B",
                "  rast tokenize --tokenizer DIR --jsonl < texts.jsonl | rast detokenize --tokenizer DIR --jsonl"})
final class DetokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, paramLabel = "DIR", description = "Where tokenizer.json is (a model folder works)." + ModelFolders.HELP)
    Path dir;

    @Option(names = "--jsonl", description = "Read one JSON array of ids per line; print one JSON string per line.")
    boolean jsonl;

    @Option(names = "--skip-special-tokens", description = "Leave out special tokens such as <|im_end|>.")
    boolean skipSpecial;

    @Override
    public Integer call() {
        Tokenizer tok = Tokenizer.load(ModelFolders.tokenizer(dir));
        String input = Stdin.readAll(System.in);
        PrintStream out = Stdout.utf8();
        if (jsonl) {
            String[] lines = input.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) continue;
                out.println(Json.quote(decode(tok, "standard input line " + (i + 1), lines[i])));
            }
        } else {
            out.print(decode(tok, "standard input", input));
        }
        out.flush();
        return 0;
    }

    private String decode(Tokenizer tok, String where, String text) {
        String t = text.strip();
        if (t.startsWith("[") && t.endsWith("]")) t = t.substring(1, t.length() - 1);
        if (t.isBlank()) return "";
        int[] ids = TokenIds.parse(where, t);
        for (int id : ids) {
            if (tok.token(id) == null)
                throw new BadInputException(where + ": token id " + id + " is not in the tokenizer (" + tok.source()
                        + " has ids 0.." + (tok.size() - 1) + ")");
        }
        return tok.decode(ids, skipSpecial);
    }
}
