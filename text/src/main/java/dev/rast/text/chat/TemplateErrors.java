package dev.rast.text.chat;

import com.hubspot.jinjava.interpret.TemplateError;

/**
 * Jinjava's error messages as Jinja2 would word them, without what only our translation of the template shows
 * (Jinjava quotes the expression it evaluated, "rast_str((...))", and the Java exception's class).
 */
final class TemplateErrors {
    private TemplateErrors() {}

    static String message(TemplateError e) {
        Throwable root = e.getException();
        while (root != null && root.getCause() != null && root.getCause() != root) root = root.getCause();
        // What our functions and operators raise carries Python's message already.
        if (root instanceof IllegalArgumentException || root instanceof jinjava.javax.el.ELException)
            if (root.getMessage() != null) return root.getMessage();
        if (root instanceof ArithmeticException) return "integer division or modulo by zero";
        String m = e.getMessage();
        if (m.contains("ArithmeticException: / by zero")) return "integer division or modulo by zero";
        var recursion = java.util.regex.Pattern.compile("Max recursion limit of (\\d+) reached for macro '([^']*)'").matcher(m);
        if (recursion.find())
            return "maximum recursion depth exceeded (macro '" + recursion.group(2) + "' nested " + recursion.group(1) + " deep)";
        return m.replaceAll("(?s) when resolving expression \\[.*?\\]: \\w+Exception:", ":")
                .replaceAll("(?s)^(InterpretException: )?Error resolving expression \\[.*?\\]: \\w+Exception: ", "");
    }
}
