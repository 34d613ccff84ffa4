//! Message bodies: [`MsgElement`], one element of a `MsgBody` (Tencent's `TIMMessage` object).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One element of a message body: `{"MsgType": "TIMTextElem", "MsgContent": {...}}`.
///
/// A `MsgBody` is a list of them (`Vec<MsgElement>`). Each known `MsgType` has its own content
/// type; any other (`TIMRelayElem`, an element Tencent adds later) is kept as
/// [`MsgElement::Unknown`] with its content as raw JSON, and written back unchanged when a reply
/// carries it. Unknown fields inside a known element are ignored (Tencent adds fields).
///
/// ```
/// use tim_callback_events::message::MsgElement;
///
/// let body: Vec<MsgElement> = serde_json::from_str(
///     r#"[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}},
///         {"MsgType":"TIMRelayElem","MsgContent":{"Title":"chat history"}}]"#,
/// )?;
/// assert_eq!(body[0].as_text(), Some("hello"));
/// assert!(matches!(&body[1], MsgElement::Unknown { msg_type, .. } if msg_type == "TIMRelayElem"));
///
/// // Written back as Tencent reads it.
/// assert_eq!(
///     serde_json::to_string(&MsgElement::text("h***o"))?,
///     r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"h***o"}}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MsgElement {
    /// `TIMTextElem`.
    Text(TextElem),
    /// `TIMFaceElem`.
    Face(FaceElem),
    /// `TIMLocationElem`.
    Location(LocationElem),
    /// `TIMCustomElem`.
    Custom(CustomElem),
    /// `TIMImageElem`.
    Image(ImageElem),
    /// `TIMSoundElem`.
    Sound(SoundElem),
    /// `TIMVideoFileElem`.
    VideoFile(VideoFileElem),
    /// `TIMFileElem`.
    File(FileElem),
    /// Any other `MsgType`, its `MsgContent` kept as it came (`Null` when it had none).
    Unknown {
        /// The element's `MsgType`.
        msg_type: String,
        /// Its `MsgContent`, raw.
        content: Value,
    },
}

impl MsgElement {
    /// A text element.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextElem { text: text.into() })
    }

    /// The text of a text element; `None` for any other element.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(elem) => Some(&elem.text),
            _ => None,
        }
    }

    /// The element's `MsgType` as Tencent writes it.
    pub fn msg_type(&self) -> &str {
        match self {
            Self::Text(_) => "TIMTextElem",
            Self::Face(_) => "TIMFaceElem",
            Self::Location(_) => "TIMLocationElem",
            Self::Custom(_) => "TIMCustomElem",
            Self::Image(_) => "TIMImageElem",
            Self::Sound(_) => "TIMSoundElem",
            Self::VideoFile(_) => "TIMVideoFileElem",
            Self::File(_) => "TIMFileElem",
            Self::Unknown { msg_type, .. } => msg_type,
        }
    }
}

/// `TIMTextElem`'s content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextElem {
    /// `Text`: the message text.
    #[serde(rename = "Text", default)]
    pub text: String,
}

/// `TIMFaceElem`'s content: an emoji.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaceElem {
    /// `Index`: the emoji's index, defined by the app.
    #[serde(rename = "Index", default)]
    pub index: i64,
    /// `Data`: extra data, defined by the app.
    #[serde(rename = "Data", default)]
    pub data: String,
}

/// `TIMLocationElem`'s content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LocationElem {
    /// `Desc`: a description of the place.
    #[serde(rename = "Desc", default)]
    pub desc: String,
    /// `Latitude`.
    #[serde(rename = "Latitude", default)]
    pub latitude: f64,
    /// `Longitude`.
    #[serde(rename = "Longitude", default)]
    pub longitude: f64,
}

/// `TIMCustomElem`'s content: app-defined data (not moderated by Tencent's filters).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomElem {
    /// `Data`: the custom payload.
    #[serde(rename = "Data", default)]
    pub data: String,
    /// `Desc`: the text an offline push shows.
    #[serde(rename = "Desc", default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    /// `Ext`: the extension field of an offline push.
    #[serde(rename = "Ext", default, skip_serializing_if = "String::is_empty")]
    pub ext: String,
    /// `Sound`: the sound of an offline push.
    #[serde(rename = "Sound", default, skip_serializing_if = "String::is_empty")]
    pub sound: String,
}

/// `TIMImageElem`'s content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageElem {
    /// `UUID`: the image's id.
    #[serde(rename = "UUID", default)]
    pub uuid: String,
    /// `ImageFormat`: 1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other.
    #[serde(rename = "ImageFormat", default)]
    pub image_format: u32,
    /// `ImageInfoArray`: the original, large and thumbnail versions.
    #[serde(rename = "ImageInfoArray", default)]
    pub image_info_array: Vec<ImageInfo>,
}

/// One version of an image (`ImageInfoArray`'s entries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageInfo {
    /// `Type`: 1 original, 2 large, 3 thumbnail.
    #[serde(rename = "Type", default)]
    pub kind: u32,
    /// `Size`: bytes.
    #[serde(rename = "Size", default)]
    pub size: u64,
    /// `Width`: pixels.
    #[serde(rename = "Width", default)]
    pub width: u32,
    /// `Height`: pixels.
    #[serde(rename = "Height", default)]
    pub height: u32,
    /// `URL`: where to download it.
    #[serde(rename = "URL", default)]
    pub url: String,
}

/// `TIMSoundElem`'s content: a voice message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SoundElem {
    /// `Url`: where to download it.
    #[serde(rename = "Url", default)]
    pub url: String,
    /// `UUID`: the sound's id.
    #[serde(rename = "UUID", default)]
    pub uuid: String,
    /// `Size`: bytes.
    #[serde(rename = "Size", default)]
    pub size: u64,
    /// `Second`: its length in seconds.
    #[serde(rename = "Second", default)]
    pub second: u32,
    /// `Download_Flag`: 2 means it is downloaded from `Url`.
    #[serde(rename = "Download_Flag", default)]
    pub download_flag: u32,
}

/// `TIMFileElem`'s content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileElem {
    /// `Url`: where to download it.
    #[serde(rename = "Url", default)]
    pub url: String,
    /// `UUID`: the file's id.
    #[serde(rename = "UUID", default)]
    pub uuid: String,
    /// `FileSize`: bytes.
    #[serde(rename = "FileSize", default)]
    pub file_size: u64,
    /// `FileName`.
    #[serde(rename = "FileName", default)]
    pub file_name: String,
    /// `Download_Flag`: 2 means it is downloaded from `Url`.
    #[serde(rename = "Download_Flag", default)]
    pub download_flag: u32,
}

/// `TIMVideoFileElem`'s content: a video and its thumbnail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoFileElem {
    /// `VideoUrl`.
    #[serde(rename = "VideoUrl", default)]
    pub video_url: String,
    /// `VideoUUID`.
    #[serde(rename = "VideoUUID", default)]
    pub video_uuid: String,
    /// `VideoSize`: bytes.
    #[serde(rename = "VideoSize", default)]
    pub video_size: u64,
    /// `VideoSecond`: its length in seconds.
    #[serde(rename = "VideoSecond", default)]
    pub video_second: u32,
    /// `VideoFormat`: `mp4`, …
    #[serde(rename = "VideoFormat", default)]
    pub video_format: String,
    /// `VideoDownloadFlag`: 2 means it is downloaded from `VideoUrl`.
    #[serde(rename = "VideoDownloadFlag", default)]
    pub video_download_flag: u32,
    /// `ThumbUrl`.
    #[serde(rename = "ThumbUrl", default)]
    pub thumb_url: String,
    /// `ThumbUUID`.
    #[serde(rename = "ThumbUUID", default)]
    pub thumb_uuid: String,
    /// `ThumbSize`: bytes.
    #[serde(rename = "ThumbSize", default)]
    pub thumb_size: u64,
    /// `ThumbWidth`: pixels.
    #[serde(rename = "ThumbWidth", default)]
    pub thumb_width: u32,
    /// `ThumbHeight`: pixels.
    #[serde(rename = "ThumbHeight", default)]
    pub thumb_height: u32,
    /// `ThumbFormat`: `JPG`, …
    #[serde(rename = "ThumbFormat", default)]
    pub thumb_format: String,
    /// `ThumbDownloadFlag`: 2 means it is downloaded from `ThumbUrl`.
    #[serde(rename = "ThumbDownloadFlag", default)]
    pub thumb_download_flag: u32,
}

impl Serialize for MsgElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("MsgType", self.msg_type())?;
        match self {
            Self::Text(c) => map.serialize_entry("MsgContent", c)?,
            Self::Face(c) => map.serialize_entry("MsgContent", c)?,
            Self::Location(c) => map.serialize_entry("MsgContent", c)?,
            Self::Custom(c) => map.serialize_entry("MsgContent", c)?,
            Self::Image(c) => map.serialize_entry("MsgContent", c)?,
            Self::Sound(c) => map.serialize_entry("MsgContent", c)?,
            Self::VideoFile(c) => map.serialize_entry("MsgContent", c)?,
            Self::File(c) => map.serialize_entry("MsgContent", c)?,
            Self::Unknown { content, .. } => map.serialize_entry("MsgContent", content)?,
        }
        map.end()
    }
}

/// The known `MsgType`s (`None`: kept as [`MsgElement::Unknown`]).
#[derive(Clone, Copy)]
enum Known {
    Text,
    Face,
    Location,
    Custom,
    Image,
    Sound,
    VideoFile,
    File,
}

fn known(msg_type: &str) -> Option<Known> {
    Some(match msg_type {
        "TIMTextElem" => Known::Text,
        "TIMFaceElem" => Known::Face,
        "TIMLocationElem" => Known::Location,
        "TIMCustomElem" => Known::Custom,
        "TIMImageElem" => Known::Image,
        "TIMSoundElem" => Known::Sound,
        "TIMVideoFileElem" => Known::VideoFile,
        "TIMFileElem" => Known::File,
        _ => return None,
    })
}

/// Builds the element from `MsgType` and a content that came before it (kept as a `Value`).
fn element<E: de::Error>(msg_type: String, content: Value) -> Result<MsgElement, E> {
    fn typed<T: de::DeserializeOwned, E: de::Error>(content: Value) -> Result<T, E> {
        T::deserialize(content).map_err(E::custom)
    }
    Ok(match known(&msg_type) {
        Some(Known::Text) => MsgElement::Text(typed(content)?),
        Some(Known::Face) => MsgElement::Face(typed(content)?),
        Some(Known::Location) => MsgElement::Location(typed(content)?),
        Some(Known::Custom) => MsgElement::Custom(typed(content)?),
        Some(Known::Image) => MsgElement::Image(typed(content)?),
        Some(Known::Sound) => MsgElement::Sound(typed(content)?),
        Some(Known::VideoFile) => MsgElement::VideoFile(typed(content)?),
        Some(Known::File) => MsgElement::File(typed(content)?),
        None => MsgElement::Unknown { msg_type, content },
    })
}

impl<'de> Deserialize<'de> for MsgElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = MsgElement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message element {MsgType, MsgContent}")
    }

    // Tencent writes `MsgType` first: then the content is read straight into its type. When the
    // content comes first it is kept as a `Value` until the type is known.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MsgElement, A::Error> {
        let mut msg_type: Option<crate::parse::Key<'de>> = None;
        let mut element_read: Option<MsgElement> = None;
        let mut pending: Option<Value> = None;
        while let Some(key) = map.next_key::<crate::parse::Key<'de>>()? {
            match key.as_str() {
                "MsgType" => {
                    if msg_type.is_some() {
                        return Err(de::Error::duplicate_field("MsgType"));
                    }
                    msg_type = Some(map.next_value::<crate::parse::Key<'de>>()?);
                }
                "MsgContent" => {
                    if element_read.is_some() || pending.is_some() {
                        return Err(de::Error::duplicate_field("MsgContent"));
                    }
                    match msg_type.as_ref().map(|t| known(t.as_str())) {
                        Some(Some(kind)) => element_read = Some(read_known(kind, &mut map)?),
                        _ => pending = Some(map.next_value::<Value>()?),
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let msg_type = msg_type.ok_or_else(|| de::Error::missing_field("MsgType"))?;
        match element_read {
            Some(element) => Ok(element),
            None => element(msg_type.as_str().to_owned(), pending.unwrap_or(Value::Null)),
        }
    }
}

fn read_known<'de, A: MapAccess<'de>>(kind: Known, map: &mut A) -> Result<MsgElement, A::Error> {
    Ok(match kind {
        Known::Text => MsgElement::Text(map.next_value()?),
        Known::Face => MsgElement::Face(map.next_value()?),
        Known::Location => MsgElement::Location(map.next_value()?),
        Known::Custom => MsgElement::Custom(map.next_value()?),
        Known::Image => MsgElement::Image(map.next_value()?),
        Known::Sound => MsgElement::Sound(map.next_value()?),
        Known::VideoFile => MsgElement::VideoFile(map.next_value()?),
        Known::File => MsgElement::File(map.next_value()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_element_reads_and_writes_back() {
        let body = r#"[
            {"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}},
            {"MsgType":"TIMFaceElem","MsgContent":{"Index":3,"Data":"smile"}},
            {"MsgType":"TIMLocationElem","MsgContent":{"Desc":"office","Latitude":22.5,"Longitude":113.9}},
            {"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"k\":1}","Desc":"d","Ext":"e","Sound":"s.mp3"}},
            {"MsgType":"TIMImageElem","MsgContent":{"UUID":"u1","ImageFormat":1,"ImageInfoArray":[{"Type":1,"Size":10,"Width":2,"Height":3,"URL":"https://img/1"}]}},
            {"MsgType":"TIMSoundElem","MsgContent":{"Url":"https://s","UUID":"u2","Size":99,"Second":4,"Download_Flag":2}},
            {"MsgType":"TIMVideoFileElem","MsgContent":{"VideoUrl":"https://v","VideoUUID":"u3","VideoSize":7,"VideoSecond":5,"VideoFormat":"mp4","VideoDownloadFlag":2,"ThumbUrl":"https://t","ThumbUUID":"u4","ThumbSize":6,"ThumbWidth":8,"ThumbHeight":9,"ThumbFormat":"JPG","ThumbDownloadFlag":2}},
            {"MsgType":"TIMFileElem","MsgContent":{"Url":"https://f","UUID":"u5","FileSize":11,"FileName":"a.pdf","Download_Flag":2}}
        ]"#;
        let elements: Vec<MsgElement> = serde_json::from_str(body).unwrap();
        assert_eq!(elements.len(), 8);
        assert_eq!(elements[0].as_text(), Some("hi"));
        let MsgElement::Face(face) = &elements[1] else {
            panic!("{:?}", elements[1])
        };
        assert_eq!((face.index, face.data.as_str()), (3, "smile"));
        let MsgElement::Location(place) = &elements[2] else {
            panic!()
        };
        assert_eq!(
            (place.desc.as_str(), place.latitude, place.longitude),
            ("office", 22.5, 113.9)
        );
        let MsgElement::Custom(custom) = &elements[3] else {
            panic!()
        };
        assert_eq!(
            (
                custom.data.as_str(),
                custom.desc.as_str(),
                custom.ext.as_str(),
                custom.sound.as_str()
            ),
            ("{\"k\":1}", "d", "e", "s.mp3")
        );
        let MsgElement::Image(image) = &elements[4] else {
            panic!()
        };
        assert_eq!((image.uuid.as_str(), image.image_format), ("u1", 1));
        assert_eq!(image.image_info_array[0].url, "https://img/1");
        assert_eq!(
            (
                image.image_info_array[0].kind,
                image.image_info_array[0].size,
                image.image_info_array[0].width,
                image.image_info_array[0].height
            ),
            (1, 10, 2, 3)
        );
        let MsgElement::Sound(sound) = &elements[5] else {
            panic!()
        };
        assert_eq!(
            (
                sound.url.as_str(),
                sound.uuid.as_str(),
                sound.size,
                sound.second,
                sound.download_flag
            ),
            ("https://s", "u2", 99, 4, 2)
        );
        let MsgElement::VideoFile(video) = &elements[6] else {
            panic!()
        };
        assert_eq!(
            (
                video.video_url.as_str(),
                video.video_size,
                video.video_second,
                video.thumb_width,
                video.thumb_height,
                video.thumb_format.as_str()
            ),
            ("https://v", 7, 5, 8, 9, "JPG")
        );
        let MsgElement::File(file) = &elements[7] else {
            panic!()
        };
        assert_eq!((file.file_name.as_str(), file.file_size), ("a.pdf", 11));
        let types: Vec<&str> = elements.iter().map(MsgElement::msg_type).collect();
        assert_eq!(
            types,
            [
                "TIMTextElem",
                "TIMFaceElem",
                "TIMLocationElem",
                "TIMCustomElem",
                "TIMImageElem",
                "TIMSoundElem",
                "TIMVideoFileElem",
                "TIMFileElem"
            ]
        );
        // Written and read again: the same elements.
        let again: Vec<MsgElement> =
            serde_json::from_str(&serde_json::to_string(&elements).unwrap()).unwrap();
        assert_eq!(again, elements);
    }

    #[test]
    fn content_before_type_and_unknown_elements_are_read_too() {
        let e: MsgElement =
            serde_json::from_str(r#"{"MsgContent":{"Text":"late"},"MsgType":"TIMTextElem"}"#)
                .unwrap();
        assert_eq!(e.as_text(), Some("late"));
        let e: MsgElement = serde_json::from_str(
            r#"{"MsgType":"TIMRelayElem","MsgContent":{"Title":"t","MsgNum":2},"Extra":1}"#,
        )
        .unwrap();
        let MsgElement::Unknown { msg_type, content } = &e else {
            panic!()
        };
        assert_eq!(
            (msg_type.as_str(), &content["MsgNum"]),
            ("TIMRelayElem", &Value::from(2))
        );
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"MsgType":"TIMRelayElem","MsgContent":{"MsgNum":2,"Title":"t"}}"#
        );
        let e: MsgElement = serde_json::from_str(r#"{"MsgType":"TIMNewElem"}"#).unwrap();
        assert_eq!(
            e,
            MsgElement::Unknown {
                msg_type: "TIMNewElem".into(),
                content: Value::Null
            }
        );
        // Unknown fields inside a known element are ignored.
        let e: MsgElement = serde_json::from_str(
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"a","New":true}}"#,
        )
        .unwrap();
        assert_eq!(e.as_text(), Some("a"));
    }

    #[test]
    fn broken_elements_are_errors() {
        for bad in [
            r#"{"MsgContent":{"Text":"x"}}"#,
            r#"{"MsgType":"TIMTextElem","MsgType":"TIMFaceElem","MsgContent":{}}"#,
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"},"MsgContent":{"Text":"b"}}"#,
            r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":5}}"#,
            r#"{"MsgContent":{"Text":5},"MsgType":"TIMTextElem"}"#,
            r#"{"MsgType":7,"MsgContent":{}}"#,
            r#"[1]"#,
        ] {
            assert!(serde_json::from_str::<MsgElement>(bad).is_err(), "{bad}");
        }
    }
}
