// A JVM PID 1 that adopts orphans and never reaps them (the JVM waits only for its own Process objects).
// Prints "tick N" every 100 ms: the job that must go on across a REAP.
public class Orphans {
    public static void main(String[] args) throws Exception {
        new ProcessBuilder("sh", "-c", "sleep 0.3 & sleep 0.3 & sleep 0.3 & exit 0").start().waitFor();
        for (int tick = 1; ; tick++) {
            Thread.sleep(100);
            System.out.println("tick " + tick);
            System.out.flush();
        }
    }
}
