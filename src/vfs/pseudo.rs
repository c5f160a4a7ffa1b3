//! Pseudo file systems: procfs, sysfs, devpts, cgroup, debugfs and the like, whose files are kernel
//! interfaces rather than text. Their sizes lie (`/proc/<pid>/pagemap` says 0 bytes and reads for
//! gigabytes) and reading some of them has effects, so discovery never walks into them and a read
//! refuses a file that lives on one.
//!
//! On Linux the file system is told by `statfs`'s `f_type`; elsewhere by the well-known mount points.

use std::path::Path;

#[cfg(target_os = "linux")]
mod imp {
    use std::os::fd::AsFd;
    use std::path::Path;

    /// `f_type` values (linux/magic.h) of file systems that hold kernel interfaces, not files.
    const PSEUDO_MAGICS: &[u32] = &[
        0x0000_9fa0, // proc
        0x6265_6572, // sysfs
        0x0000_1cd1, // devpts
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0xcafe_4a11, // bpf
        0x6165_676c, // pstore
        0xde5e_81e4, // efivarfs
        0x6265_6570, // configfs
        0x6573_5543, // fusectl
        0xf97c_ff8c, // selinuxfs
        0x4341_5d53, // smackfs
        0x4249_4e4d, // binfmt_misc
        0x1980_0202, // mqueue
        0x6e73_6673, // nsfs
        0x5a3c_69f0, // apparmorfs
    ];

    fn is_pseudo(f_type: rustix::fs::FsWord) -> bool {
        // `f_type` is a signed or unsigned word by platform; the magics are its low 32 bits.
        PSEUDO_MAGICS.contains(&(f_type as u64 as u32))
    }

    pub fn is_pseudo_path(path: &Path) -> bool {
        rustix::fs::statfs(path).is_ok_and(|st| is_pseudo(st.f_type))
    }

    pub fn is_pseudo_fd(fd: impl AsFd) -> bool {
        rustix::fs::fstatfs(fd).is_ok_and(|st| is_pseudo(st.f_type))
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::path::Path;

    pub fn is_pseudo_path(path: &Path) -> bool {
        ["/proc", "/sys", "/dev"]
            .iter()
            .any(|root| path.starts_with(root))
    }

    #[cfg(unix)]
    pub fn is_pseudo_fd(_fd: impl std::os::fd::AsFd) -> bool {
        false
    }
}

/// Whether `path` (a folder or file) lives on a pseudo file system.
pub fn is_pseudo_path(path: &Path) -> bool {
    imp::is_pseudo_path(path)
}

/// Whether an open file lives on a pseudo file system.
#[cfg(unix)]
pub fn is_pseudo_fd(fd: impl std::os::fd::AsFd) -> bool {
    imp::is_pseudo_fd(fd)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn proc_and_sys_are_pseudo_and_a_temporary_folder_is_not() {
        assert!(is_pseudo_path(Path::new("/proc")));
        assert!(is_pseudo_path(Path::new("/proc/self/status")));
        if Path::new("/sys/kernel").is_dir() {
            assert!(is_pseudo_path(Path::new("/sys")));
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_pseudo_path(dir.path()));
        let f = std::fs::File::open("/proc/self/status").unwrap();
        assert!(is_pseudo_fd(&f));
    }
}
