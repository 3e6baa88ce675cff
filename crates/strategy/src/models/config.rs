//! Model configuration from TOML: one flat table with a `model` key and the model's parameters
//! under the spec's names, e.g.
//!
//! ```toml
//! model = "glft"
//! gamma = 0.01          # per tick per lot
//! sigma = 0.3           # ticks per sqrt(s)
//! a = 0.9               # per second
//! k = 0.3               # per tick
//! max_inventory = 10    # lots
//! ```
//!
//! Unknown keys are an error (every parameter struct is `deny_unknown_fields`), so a typo never
//! silently falls back to a default.

use serde::{Deserialize, Serialize};

use super::{
    AsParams, AvellanedaStoikov, CartJaim, CartJaimParams, CjMode, GlftAsymptotic, GlftAsymptoticParams,
    GlftExact, GlftExactParams, HjbParams, HjbQuoter,
};
use crate::quoter::{DepthContext, DepthModel, ModelDepths, StrategyError};

/// The model names, as in `model = "…"` and on the command line.
pub const MODEL_NAMES: [&str; 5] = ["as", "glft", "glft-exact", "cj", "hjb"];

/// Any model's parameters, tagged by `model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model")]
pub enum ModelConfig {
    /// `model = "as"`: [`AvellanedaStoikov`].
    #[serde(rename = "as")]
    As(AsParams),
    /// `model = "glft"`: [`GlftAsymptotic`].
    #[serde(rename = "glft")]
    Glft(GlftAsymptoticParams),
    /// `model = "glft-exact"`: [`GlftExact`].
    #[serde(rename = "glft-exact")]
    GlftExact(GlftExactParams),
    /// `model = "cj"`: [`CartJaim`].
    #[serde(rename = "cj")]
    Cj(CartJaimParams),
    /// `model = "hjb"`: [`HjbQuoter`] with GLFT dynamics.
    #[serde(rename = "hjb")]
    Hjb(HjbParams),
}

/// One parameter value from outside a file (a command-line flag).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A real parameter (`gamma`, `sigma`, …).
    Float(f64),
    /// An integer parameter (`max_inventory`, `steps`).
    Int(i64),
    /// A word (`mode`).
    Text(String),
}

impl From<ParamValue> for toml::Value {
    fn from(v: ParamValue) -> Self {
        match v {
            ParamValue::Float(x) => toml::Value::Float(x),
            ParamValue::Int(i) => toml::Value::Integer(i),
            ParamValue::Text(s) => toml::Value::String(s),
        }
    }
}

fn config_error(e: impl std::fmt::Display) -> StrategyError {
    StrategyError::Config(e.to_string().trim_end().to_string())
}

impl ModelConfig {
    /// The model's name (`"as"`, `"glft"`, `"glft-exact"`, `"cj"`, `"hjb"`).
    pub fn name(&self) -> &'static str {
        match self {
            ModelConfig::As(_) => "as",
            ModelConfig::Glft(_) => "glft",
            ModelConfig::GlftExact(_) => "glft-exact",
            ModelConfig::Cj(_) => "cj",
            ModelConfig::Hjb(_) => "hjb",
        }
    }

    /// The default parameters of a model (each params type's `Default`: Guéant's illustrative
    /// market, Q = 10, T = 600 s where there is a horizon).
    ///
    /// Errors: [`StrategyError::Config`] for an unknown name.
    pub fn default_for(name: &str) -> Result<Self, StrategyError> {
        Ok(match name {
            "as" => ModelConfig::As(AsParams::default()),
            "glft" => ModelConfig::Glft(GlftAsymptoticParams::default()),
            "glft-exact" => ModelConfig::GlftExact(GlftExactParams::default()),
            "cj" => ModelConfig::Cj(CartJaimParams::default()),
            "hjb" => ModelConfig::Hjb(HjbParams::default()),
            other => {
                return Err(StrategyError::Config(format!(
                    "unknown model {other:?}; expected one of {MODEL_NAMES:?}"
                )))
            }
        })
    }

    /// Parses a complete configuration (with its `model` key).
    ///
    /// Errors: [`StrategyError::Config`] for bad TOML, a missing or unknown model, a missing
    /// required parameter or an unknown key.
    pub fn from_toml_str(text: &str) -> Result<Self, StrategyError> {
        toml::from_str(text).map_err(config_error)
    }

    /// Layers a configuration: the model's defaults, then the keys of `file` (TOML text; its
    /// `model` key, if any, must be `name`), then `overrides` (e.g. command-line flags, under the
    /// TOML key names). Nothing is validated beyond the types: [`ModelConfig::build`] does that.
    ///
    /// Errors: [`StrategyError::Config`] for an unknown model, bad TOML, a file for another model,
    /// an unknown key or a value of the wrong type.
    pub fn resolve(
        name: &str,
        file: Option<&str>,
        overrides: impl IntoIterator<Item = (String, ParamValue)>,
    ) -> Result<Self, StrategyError> {
        let mut table = toml::Table::try_from(Self::default_for(name)?).map_err(config_error)?;
        if let Some(text) = file {
            let parsed: toml::Table = toml::from_str(text).map_err(config_error)?;
            for (key, value) in parsed {
                if key == "model" && value.as_str() != Some(name) {
                    let found = value.as_str().map_or_else(|| format!("{value:?}"), |s| format!("{s:?}"));
                    return Err(StrategyError::Config(format!(
                        "the configuration file is for model {found}, not {name:?}"
                    )));
                }
                table.insert(key, value);
            }
        }
        for (key, value) in overrides {
            table.insert(key, value.into());
        }
        table.try_into().map_err(config_error)
    }

    /// The horizon T in seconds, for models that have one (`None` for stationary models).
    pub fn horizon_s(&self) -> Option<f64> {
        match self {
            ModelConfig::As(p) => Some(p.horizon_s),
            ModelConfig::Glft(_) => None,
            ModelConfig::GlftExact(p) => Some(p.horizon_s),
            ModelConfig::Cj(p) => (p.mode == CjMode::Exact).then_some(p.horizon_s).flatten(),
            ModelConfig::Hjb(p) => Some(p.horizon_s),
        }
    }

    /// Validates the parameters and builds the model (precomputing where the model does).
    ///
    /// Errors: the model constructor's.
    pub fn build(&self) -> Result<AnyModel, StrategyError> {
        Ok(match self {
            ModelConfig::As(p) => AnyModel::As(AvellanedaStoikov::new(*p)?),
            ModelConfig::Glft(p) => AnyModel::Glft(GlftAsymptotic::new(*p)?),
            ModelConfig::GlftExact(p) => AnyModel::GlftExact(GlftExact::new(*p)?),
            ModelConfig::Cj(p) => AnyModel::Cj(CartJaim::new(*p)?),
            ModelConfig::Hjb(p) => AnyModel::Hjb(HjbQuoter::new(*p)?),
        })
    }
}

/// Any built model, so that a configuration can choose one at run time without boxing.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyModel {
    /// Avellaneda–Stoikov.
    As(AvellanedaStoikov),
    /// GLFT closed form.
    Glft(GlftAsymptotic),
    /// GLFT exact.
    GlftExact(GlftExact),
    /// Cartea–Jaimungal.
    Cj(CartJaim),
    /// Numerical HJB.
    Hjb(HjbQuoter),
}

impl AnyModel {
    fn inner(&self) -> &dyn DepthModel {
        match self {
            AnyModel::As(m) => m,
            AnyModel::Glft(m) => m,
            AnyModel::GlftExact(m) => m,
            AnyModel::Cj(m) => m,
            AnyModel::Hjb(m) => m,
        }
    }
}

impl DepthModel for AnyModel {
    fn name(&self) -> &'static str {
        self.inner().name()
    }

    fn max_inventory_lots(&self) -> Option<i64> {
        self.inner().max_inventory_lots()
    }

    fn depths(&self, ctx: &DepthContext) -> Result<ModelDepths, StrategyError> {
        self.inner().depths(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_toml_with_a_model_tag_parses_and_unknown_keys_are_rejected() {
        let c = ModelConfig::from_toml_str(
            "model = \"glft\"\ngamma = 0.02\nsigma = 1\na = 0.9\nk = 0.3\nmax_inventory = 5\n",
        )
        .expect("parses");
        let ModelConfig::Glft(p) = c else { panic!("wrong variant {c:?}") };
        assert_eq!((p.gamma_per_tick_lot, p.sigma_ticks_per_sqrt_s, p.delta_lots), (0.02, 1.0, 1.0));
        let err = ModelConfig::from_toml_str("model = \"glft\"\ngama = 0.02\n").expect_err("typo");
        assert!(err.to_string().contains("gama"), "{err}");
        assert!(ModelConfig::from_toml_str("model = \"nope\"").is_err());
    }

    #[test]
    fn resolve_layers_defaults_file_and_overrides() {
        let c = ModelConfig::resolve(
            "cj",
            Some("phi = 0.01\nmode = \"stationary\"\n"),
            [("kappa".to_string(), ParamValue::Float(0.7))],
        )
        .expect("resolves");
        let ModelConfig::Cj(p) = c else { panic!("wrong variant") };
        assert_eq!((p.phi_ticks_per_lot2_s, p.kappa_per_tick, p.mode), (0.01, 0.7, CjMode::Stationary));
        assert_eq!(p.lambda_plus_per_s, CartJaimParams::default().lambda_plus_per_s);
        let err = ModelConfig::resolve("as", Some("model = \"glft\""), []).expect_err("other model");
        assert!(err.to_string().contains("glft"), "{err}");
        assert!(ModelConfig::resolve("as", None, [("a".into(), ParamValue::Float(1.0))]).is_err());
    }
}
