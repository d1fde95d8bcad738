package kittyspark.runtime.backend.cuda.pages;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PagePoolTest {
    @Test
    void aSequenceClaimsOnePagePerSixteenTokensInOrder() {
        PagePool pool = new PagePool(10, 16, 1024);
        PagePool.Table t = pool.open(0);
        t.ensure(1);
        t.ensure(16);
        assertEquals(1, t.count());
        t.ensure(17);
        assertArrayEquals(new int[] {0, 1}, t.pages());
        assertEquals(32, t.capacityTokens());
    }

    @Test
    void reservationsCountAgainstWhatLaterSequencesMayOpen() {
        PagePool pool = new PagePool(10, 16, 1024);
        pool.open(100); // 7 pages promised, none claimed yet
        assertEquals(3, pool.availablePages());
        assertTrue(pool.fits(48));
        assertFalse(pool.fits(49));
        assertThrows(IllegalStateException.class, () -> pool.open(64));
    }

    @Test
    void claimingWithinTheReservationLeavesAvailabilityUnchanged() {
        PagePool pool = new PagePool(10, 16, 1024);
        PagePool.Table t = pool.open(64);
        assertEquals(6, pool.availablePages());
        t.ensure(64);
        assertEquals(6, pool.availablePages());
    }

    @Test
    void releaseReturnsPagesAndTheUnclaimedReservation() {
        PagePool pool = new PagePool(10, 16, 1024);
        PagePool.Table t = pool.open(160);
        t.ensure(40);
        t.release();
        t.release(); // idempotent
        assertEquals(10, pool.availablePages());
        assertThrows(IllegalStateException.class, () -> t.ensure(50));
    }

    @Test
    void growingPastTheFreePagesFailsWithAClearMessage() {
        PagePool pool = new PagePool(2, 16, 1024);
        PagePool.Table t = pool.open(0);
        t.ensure(32);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.ensure(33));
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
    }

    @Test
    void releasedPagesAreHandedOutAgain() {
        PagePool pool = new PagePool(3, 16, 1024);
        PagePool.Table a = pool.open(0);
        a.ensure(48);
        a.release();
        PagePool.Table b = pool.open(0);
        b.ensure(48);
        assertEquals(3, b.pages().length);
        assertEquals(0, pool.availablePages());
    }

    @Test
    void capacityFiguresFollowFromBytesPerPage() {
        long bytesPerPage = 2L * 32 * 8 * 16 * 128 * 2; // llama3-8b: K+V, 32 layers, 8 kv heads, 16 tokens, d 128, fp16
        int pages = PagePool.pagesFor(60L << 30, bytesPerPage);
        PagePool pool = new PagePool(pages, 16, bytesPerPage);
        assertEquals(30720, pages);
        assertEquals(491520, pool.totalTokens());
        assertEquals(30720 / 136, pool.maxSequencesOf(2048 + 128));
    }
}
