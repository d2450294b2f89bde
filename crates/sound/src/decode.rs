//! Streaming decode with Symphonia: one packet's samples at a time, as
//! interleaved f32, never the whole track.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::{SampleBuffer, SignalSpec};
use symphonia::core::codecs::{CODEC_TYPE_NULL, CODEC_TYPE_OPUS, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::{Error, Result};

/// Packets that fail to decode are skipped (a damaged frame in an MP3 is
/// a click, not a lost track), up to this share of the packets read.
const MAX_DAMAGED_SHARE: f64 = 0.2;

/// What the decoder found, beside the samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub sample_rate: u32,
    pub channels: u16,
    /// Packets skipped because they could not be decoded.
    pub damaged_packets: u64,
}

/// Receives each block of interleaved samples with the channel count and
/// sample rate; returns `Ok(false)` to stop early.
pub type Sink<'a> = dyn FnMut(&[f32], usize, u32) -> Result<bool> + 'a;

/// Opens `path` only if it is a regular file, as every reader of the
/// library does: a FIFO swapped in would block the analysis for good, a
/// device would stream forever, and a link is not followed.
fn open_regular(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Decodes the first audio track of `path` and hands each block of
/// interleaved samples to `sink`.
pub fn each_block(path: &Path, sink: &mut Sink<'_>) -> Result<Decoded> {
    let name = || path.display().to_string();
    let Track {
        mut format,
        id: track_id,
        mut decoder,
        mut out,
    } = open_track(path)?;
    let mut packets = 0u64;
    // Reused while packets fit: (frames it holds, its format, buffer).
    let mut buffer: Option<(u64, SignalSpec, SampleBuffer<f32>)> = None;
    while let Some(packet) = next_packet(format.as_mut(), packets, path)? {
        if packet.track_id() != track_id {
            continue;
        }
        packets += 1;
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                out.damaged_packets += 1;
                if packets >= 20 && out.damaged_packets as f64 > MAX_DAMAGED_SHARE * packets as f64
                {
                    return Err(Error::Damaged {
                        path: name(),
                        reason: format!(
                            "{} of {packets} packets could not be decoded",
                            out.damaged_packets
                        ),
                    });
                }
                continue;
            }
            Err(e) => {
                return Err(Error::Damaged {
                    path: name(),
                    reason: e.to_string(),
                });
            }
        };
        let spec = *decoded.spec();
        if decoded.frames() == 0 || spec.rate == 0 {
            continue;
        }
        let needed = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some((frames, s, b)) if *frames >= needed && *s == spec => b,
            _ => {
                &mut buffer
                    .insert((needed, spec, SampleBuffer::new(needed, spec)))
                    .2
            }
        };
        buf.copy_interleaved_ref(decoded);
        out.sample_rate = spec.rate;
        out.channels = spec.channels.count() as u16;
        if !sink(buf.samples(), spec.channels.count(), spec.rate)? {
            break;
        }
    }
    if packets > 0 && out.damaged_packets == packets {
        return Err(Error::Damaged {
            path: name(),
            reason: "no packet could be decoded".into(),
        });
    }
    Ok(out)
}

/// A file's first audio track, ready to decode.
struct Track {
    format: Box<dyn FormatReader>,
    id: u32,
    decoder: Box<dyn Decoder>,
    /// What its parameters say, until the packets say otherwise.
    out: Decoded,
}

/// Probes `path`'s container and makes a decoder for its first audio
/// track.
fn open_track(path: &Path) -> Result<Track> {
    let name = || path.display().to_string();
    let file = open_regular(path).map_err(|source| Error::Io {
        path: name(),
        source,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| Error::Format {
            path: name(),
            reason: e.to_string(),
        })?;
    let format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| Error::NoAudio { path: name() })?;
    let id = track.id;
    let params = track.codec_params.clone();
    if params.codec == CODEC_TYPE_OPUS {
        return Err(Error::Codec {
            path: name(),
            codec: "Opus".into(),
        });
    }
    let decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|_| Error::Codec {
            path: name(),
            codec: symphonia::default::get_codecs()
                .get_codec(params.codec)
                .map_or_else(|| format!("{}", params.codec), |d| d.long_name.to_string()),
        })?;
    let out = Decoded {
        sample_rate: params.sample_rate.unwrap_or(0),
        channels: params.channels.map_or(0, |c| c.count() as u16),
        damaged_packets: 0,
    };
    Ok(Track {
        format,
        id,
        decoder,
        out,
    })
}

/// The next packet, or `None` at the end of what can be read: the normal
/// end, a chained stream's change of format, or a container damaged
/// midway after `packets` were read (with none read, that is an error).
fn next_packet(format: &mut dyn FormatReader, packets: u64, path: &Path) -> Result<Option<Packet>> {
    match format.next_packet() {
        Ok(p) => Ok(Some(p)),
        Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(SymError::ResetRequired) => Ok(None),
        Err(SymError::IoError(e)) => Err(Error::Io {
            path: path.display().to_string(),
            source: e,
        }),
        Err(e) if packets == 0 => Err(Error::Damaged {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25 #7: a FIFO or a link swapped in for a track fails at once.
    #[test]
    fn only_a_regular_file_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("track.mp3");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo");
        let err = each_block(&fifo, &mut |_, _, _| Ok(true)).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let real = dir.path().join("real.wav");
        std::fs::write(&real, b"RIFF").unwrap();
        let link = dir.path().join("link.wav");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(
            each_block(&link, &mut |_, _, _| Ok(true)).is_err(),
            "a link is not followed"
        );
    }
}
