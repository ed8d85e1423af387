package dev.rast.text.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.javax.el.ELException;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Jinjava's expression parser with the node kinds where Jinja2 raises and Jinjava carries on: division by zero
 * (Jinjava gives inf) and a lookup through a value that does not exist ({@code messages[5].content}: Jinjava gives
 * nothing, Jinja2 an UndefinedError; see {@link Lookup}).
 */
final class PyParser extends ExtendedParser {
    PyParser(Builder builder, String input) { super(builder, input); }

    /** Builds every expression with a {@link PyParser}; named by class in the expression factory's properties. */
    public static final class Builder extends ExtendedSyntaxBuilder {
        public Builder(Feature... features) { super(features); }

        @Override
        protected Parser createParser(String expression) { return new PyParser(this, expression); }
    }

    /** {@code a / b}: Python's true division, which raises on a zero divisor where IEEE gives ±inf or NaN. */
    static final AstBinary.Operator DIV = new AstBinary.SimpleOperator() {
        @Override
        protected Object apply(TypeConverter converter, Object a, Object b) {
            if (isZero(b)) throw new ELException("division by zero");
            return NumberOperations.div(converter, a, b);
        }

        @Override public String toString() { return "/"; }
    };

    private static boolean isZero(Object v) {
        return switch (v) {
            case BigDecimal d -> d.signum() == 0;
            case BigInteger i -> i.signum() == 0;
            case Number n -> n.doubleValue() == 0;
            case null, default -> false;
        };
    }

    @Override
    protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
        return super.createAstBinary(left, right, operator == AstBinary.DIV ? DIV : operator);
    }

    @Override
    protected AstDot createAstDot(AstNode base, String property, boolean lvalue) {
        return new Lookup.Dot(base, property, lvalue);
    }

    @Override
    protected AstBracket createAstBracket(AstNode base, AstNode property, boolean lvalue, boolean strict) {
        return new Lookup.Bracket(base, property, lvalue, strict);
    }
}
