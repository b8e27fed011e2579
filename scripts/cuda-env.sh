# Sourced by scripts/gpu-check.sh and scripts/gpu-sweeps.sh (bash): the environment of the CUDA PJRT plugin
# installed as a Python package (jax-cuda13-pjrt) under site-packages SP. Writes to "$log" when set.
# cuda_env SP: LD_LIBRARY_PATH from site-packages' nvidia/*/lib, the CUDA data dir where nvvm/libdevice is (its
# bin on PATH), autotuning off for the checks, plugin logs on.
cuda_env() {
  local sp=$1 d
  for d in "$sp"/nvidia/*/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
  export LD_LIBRARY_PATH
  cuda_dir=
  for d in "$sp/nvidia/cu13" "$sp/nvidia/cuda_nvcc" "${CUDA_HOME:-/nonexistent}" /usr/local/cuda; do
    if [ -d "$d/nvvm/libdevice" ]; then cuda_dir=$d; break; fi
  done
  if [ -n "$cuda_dir" ]; then
    export XLA_FLAGS="--xla_gpu_cuda_data_dir=$cuda_dir --xla_gpu_autotune_level=0"
    [ -d "$cuda_dir/bin" ] && export PATH="$cuda_dir/bin:$PATH"
  else
    export XLA_FLAGS="--xla_gpu_autotune_level=0"
  fi
  export TF_CPP_MIN_LOG_LEVEL=0
  echo "CUDA data dir: ${cuda_dir:-none with nvvm/libdevice}; XLA_FLAGS=$XLA_FLAGS" | tee -a "${log:-/dev/null}"
}

