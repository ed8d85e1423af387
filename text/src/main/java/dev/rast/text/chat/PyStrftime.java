package dev.rast.text.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.IsoFields;
import java.util.Locale;

/**
 * Python's {@code datetime.now().strftime(fmt)} in the C locale, for the {@code strftime_now} global that Hugging
 * Face gives chat templates (Llama 3.1 prints "Today Date: 26 Jul 2024" with {@code "%d %b %Y"}). The time is naive
 * local time as in Python, so {@code %z} and {@code %Z} print nothing.
 */
final class PyStrftime {
    private PyStrftime() {}

    static String format(String fmt, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 == fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) { // glibc extension: %-d is the day without padding
                noPad = true;
                d = fmt.charAt(++i);
            }
            String s = field(d, t);
            if (s == null) {
                sb.append('%').append(noPad ? "-" : "").append(d);
                continue;
            }
            if (noPad) s = s.replaceFirst("^[0 ]+(?=.)", "");
            sb.append(s);
        }
        return sb.toString();
    }

    private static String field(char d, LocalDateTime t) {
        Locale c = Locale.ROOT;
        return switch (d) {
            case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'c' -> field('a', t) + " " + field('b', t) + " " + String.format(c, "%2d", t.getDayOfMonth()) + " "
                    + field('X', t) + " " + t.getYear();
            case 'd' -> two(t.getDayOfMonth());
            case 'e' -> String.format(c, "%2d", t.getDayOfMonth());
            case 'f' -> String.format(c, "%06d", t.getNano() / 1000);
            case 'H' -> two(t.getHour());
            case 'I' -> two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
            case 'j' -> String.format(c, "%03d", t.getDayOfYear());
            case 'm' -> two(t.getMonthValue());
            case 'M' -> two(t.getMinute());
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'S' -> two(t.getSecond());
            case 'u' -> Integer.toString(t.getDayOfWeek().getValue());
            case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
            case 'U' -> two((t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7);
            case 'W' -> two((t.getDayOfYear() + 6 - (t.getDayOfWeek().getValue() + 6) % 7) / 7);
            case 'V' -> two(t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            case 'G' -> Integer.toString(t.get(IsoFields.WEEK_BASED_YEAR));
            case 'x' -> two(t.getMonthValue()) + "/" + two(t.getDayOfMonth()) + "/" + two(t.getYear() % 100);
            case 'X' -> two(t.getHour()) + ":" + two(t.getMinute()) + ":" + two(t.getSecond());
            case 'y' -> two(t.getYear() % 100);
            case 'Y' -> Integer.toString(t.get(ChronoField.YEAR));
            case 'z', 'Z' -> "";
            case '%' -> "%";
            default -> null;
        };
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : Integer.toString(v);
    }
}
