package dev.rast.eval.expr;

/** The text is not an expression this parser reads; the grader then treats it as plain text. */
public final class ExprSyntaxException extends Exception {
    ExprSyntaxException(String message, int pos) {
        super(message + " at " + pos, null, false, false);
    }
}
