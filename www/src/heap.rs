//! The wasm heap's live bytes. The WebAssembly memory only grows (in 64 KiB pages) and
//! its size is a high-water mark that depends on how freed blocks happened to be reused,
//! so it cannot tell a leak from fragmentation. The allocator below counts the bytes
//! actually held; a leak makes that count climb with every cycle of work, fragmentation
//! does not.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator (dlmalloc in wasm), counting the bytes it has handed out and not
/// yet taken back.
pub struct CountingAllocator;

// SAFETY: every call is passed on unchanged to `System`; only the count is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }
}

/// Bytes allocated and not yet freed, by this module instance (page or worker).
pub fn live_bytes() -> u64 {
    LIVE.load(Relaxed) as u64
}
